"""Deliver a run's result to the editor: applyEdit, diagnostics, and the message text."""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING

from lsprotocol import types

from llmgenie.lsp.edits import FileText, plan_workspace_edit
from llmgenie.lsp.positions import lines_range
from llmgenie.observability.logging import get_logger
from llmgenie.runs.models import Finding, RunRequest, RunResult

if TYPE_CHECKING:
    from llmgenie.lsp.session import Session

_log = get_logger(__name__)

_SEVERITY = {
    "error": types.DiagnosticSeverity.Error,
    "warning": types.DiagnosticSeverity.Warning,
    "info": types.DiagnosticSeverity.Information,
    "hint": types.DiagnosticSeverity.Hint,
}
_MESSAGE_PREVIEW = 500


class ResultDelivery:
    """Applies results and owns the llmgenie diagnostics (replaced per file and crew)."""

    def __init__(self, session: Session) -> None:
        self._session = session
        # uri -> crew -> diagnostics; a new run of a crew replaces that crew's findings.
        self._diagnostics: dict[str, dict[str, list[types.Diagnostic]]] = {}

    async def apply(self, request: RunRequest, result: RunResult) -> None:
        if result.findings:
            self.publish_findings(request, result.findings)
        if result.edits:
            await self.apply_edits(request, result)
        if result.message:
            text = result.message.strip()
            if len(text) > _MESSAGE_PREVIEW:
                text = text[:_MESSAGE_PREVIEW] + " …"
            model = f" ({result.model})" if result.model else ""
            self._session.show_message(
                f"llmgenie {request.crew}{model}: {text}", types.MessageType.Info
            )
            self._session.log_message(result.message)

    async def apply_edits(self, request: RunRequest, result: RunResult) -> bool:
        """Send the run's edits as one workspace/applyEdit; report what could not be placed."""
        folder = self._session.folder_for_request(request)
        if folder is None:
            self._report(request, "edits not applied: the run's workspace is not open")
            return False
        files: dict[str, FileText] = {}
        for path in {edit.path for edit in result.edits}:
            files[path] = await self._session.in_query_pool(
                functools.partial(self._session.current_text, folder, path)
            )
        caps = self._session.server.client_capabilities.workspace
        edit_caps = caps.workspace_edit if caps else None
        versioned = bool(edit_caps and edit_caps.document_changes)
        can_create = bool(
            versioned
            and edit_caps
            and edit_caps.resource_operations
            and types.ResourceOperationKind.Create in edit_caps.resource_operations
        )
        hint = request.range.start_line if request.range else None
        plan = plan_workspace_edit(
            result.edits,
            lambda p: (
                files.get(p) or FileText(uri=self._session.registry.uri_for(folder, p), text=None)
            ),
            self._session.server.workspace.position_codec,
            versioned=versioned,
            can_create=can_create,
            hint_line=hint,
        )
        for error in plan.errors:
            self._report(request, error)
        if plan.empty:
            return False
        try:
            response = await self._session.server.workspace_apply_edit_async(
                types.ApplyWorkspaceEditParams(edit=plan.edit, label=f"llmgenie: {request.crew}")
            )
        except Exception as exc:
            self._report(request, f"the editor refused the edit: {exc}")
            return False
        applied = bool(getattr(response, "applied", False))
        self._session.notify(
            "llmgenie/runEvent",
            {
                "runId": request.run_id,
                "kind": "status",
                "message": "edit applied" if applied else "edit rejected",
                "data": {"applied": applied, "paths": plan.applied_paths},
            },
        )
        if not applied:
            reason = getattr(response, "failure_reason", None) or "rejected by the editor"
            self._report(request, f"edit not applied: {reason}")
        await self._session.record_edit_applied(request.run_id, plan.applied_paths, applied)
        return applied

    def publish_findings(self, request: RunRequest, findings: list[Finding]) -> None:
        folder = self._session.folder_for_request(request)
        if folder is None:
            return
        by_uri: dict[str, list[types.Diagnostic]] = {}
        for finding in findings:
            uri = self._session.registry.uri_for(folder, finding.path)
            doc = self._session.server.workspace.text_documents.get(uri)
            rng = lines_range(
                doc.source if doc else None,
                finding.start_line,
                finding.end_line,
                self._session.server.workspace.position_codec,
            )
            message = finding.message + (f"\nFix: {finding.fix}" if finding.fix else "")
            by_uri.setdefault(uri, []).append(
                types.Diagnostic(
                    range=rng,
                    message=message,
                    severity=_SEVERITY[finding.severity],
                    code=finding.rule,
                    source="llmgenie",
                    data={"runId": request.run_id, "crew": request.crew, "fix": finding.fix},
                )
            )
        for uri, diags in by_uri.items():
            self._diagnostics.setdefault(uri, {})[request.crew] = diags
            self._publish(uri)

    def clear(self, uri: str) -> None:
        if self._diagnostics.pop(uri, None) is not None:
            self._publish(uri)

    def _publish(self, uri: str) -> None:
        diags = [d for crew in self._diagnostics.get(uri, {}).values() for d in crew]
        self._session.server.text_document_publish_diagnostics(
            types.PublishDiagnosticsParams(uri=uri, diagnostics=diags)
        )

    def _report(self, request: RunRequest, message: str) -> None:
        _log.warning("run_edit_failed", run_id=request.run_id, problem=message)
        self._session.show_message(f"llmgenie {request.crew}: {message}", types.MessageType.Error)
        self._session.notify(
            "llmgenie/runEvent",
            {
                "runId": request.run_id,
                "kind": "error",
                "message": message,
                "data": {"reason": "edit_failed"},
            },
        )
