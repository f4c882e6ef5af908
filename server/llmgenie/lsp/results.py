"""Deliver a run's result the LSP way: edits as one workspace/applyEdit, findings as
publishDiagnostics (source "llmgenie"), the message as showMessage + logMessage."""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lsprotocol import types

from llmgenie.app.folders import Folder
from llmgenie.contracts.ids import NOTIFY_RUN_EVENT
from llmgenie.contracts.runs import Finding, RunRequest, RunResult
from llmgenie.lsp.edits import DocumentText, plan_workspace_edit
from llmgenie.lsp.positions import lines_range
from llmgenie.lsp.uris import path_to_uri
from llmgenie.observability.logging import get_logger

if TYPE_CHECKING:
    from pygls.lsp.server import LanguageServer

    from llmgenie.app.application import Application

_log = get_logger(__name__)

_SEVERITY = {
    "error": types.DiagnosticSeverity.Error,
    "warning": types.DiagnosticSeverity.Warning,
    "info": types.DiagnosticSeverity.Information,
    "hint": types.DiagnosticSeverity.Hint,
}
MESSAGE_PREVIEW = 500
APPLY = "Apply"
CONFIRM_TIMEOUT_S = 900.0  # a user who never answers: the edit is not applied


class ResultDelivery:
    """Applies results and owns the llmgenie diagnostics (replaced per file and crew)."""

    def __init__(
        self,
        server: LanguageServer,
        app: Application,
        notify: Callable[[str, Any], None],
        show: Callable[[str, types.MessageType], None],
    ) -> None:
        self._server = server
        self._app = app
        self._notify = notify
        self._show = show
        # uri -> crew -> diagnostics; a new run of a crew replaces that crew's findings.
        self._diagnostics: dict[str, dict[str, list[types.Diagnostic]]] = {}

    async def deliver(self, request: RunRequest, result: RunResult) -> None:
        if result.findings:
            self.publish_findings(request, result.findings)
        if result.edits:
            await self.apply_edits(request, result)
        if result.message:
            text = result.message.strip()
            if len(text) > MESSAGE_PREVIEW:
                text = text[:MESSAGE_PREVIEW] + " …"
            model = f" ({result.model})" if result.model else ""
            self._show(f"llmgenie {request.crew}{model}: {text}", types.MessageType.Info)
            self._server.window_log_message(
                types.LogMessageParams(type=types.MessageType.Info, message=result.message)
            )

    def _folder(self, request: RunRequest) -> Folder | None:
        return self._app.registry.get(Path(request.workspace))

    def _current_text(self, folder: Folder, rel_path: str) -> DocumentText:
        """The editor's buffer if open, else the file on disk (text None if absent)."""
        uri = path_to_uri(folder.root / rel_path)
        doc = self._server.workspace.text_documents.get(uri)
        if doc is not None:
            return DocumentText(uri=uri, text=doc.source, version=doc.version)
        path = folder.root / rel_path
        if not path.resolve().is_relative_to(folder.root) or not path.is_file():
            return DocumentText(uri=uri, text=None)
        return DocumentText(uri=uri, text=path.read_text(encoding="utf-8", errors="replace"))

    async def apply_edits(self, request: RunRequest, result: RunResult) -> bool:
        """Send the run's edits as one workspace/applyEdit; report what could not be placed."""
        folder = self._folder(request)
        if folder is None:
            self._report(request, "edits not applied: the run's workspace is not open")
            return False
        files: dict[str, DocumentText] = {}
        for path in {edit.path for edit in result.edits}:
            files[path] = await self._app.in_pool(
                functools.partial(self._current_text, folder, path)
            )
        caps = self._server.client_capabilities.workspace
        edit_caps = caps.workspace_edit if caps else None
        versioned = bool(edit_caps and edit_caps.document_changes)
        can_create = bool(
            versioned
            and edit_caps
            and edit_caps.resource_operations
            and types.ResourceOperationKind.Create in edit_caps.resource_operations
        )
        # An editor that honours change annotations asks the user itself; any other is
        # asked here first (Neovim, Helix, Zed would otherwise apply an agent's edit silently).
        annotation = (
            types.ChangeAnnotation(
                label=f"llmgenie {request.crew}",
                needs_confirmation=True,
                description=(result.message.strip().splitlines() or [""])[0][:200],
            )
            if versioned and edit_caps and edit_caps.change_annotation_support
            else None
        )
        plan = plan_workspace_edit(
            result.edits,
            lambda p: files.get(p) or DocumentText(uri=path_to_uri(folder.root / p), text=None),
            self._server.workspace.position_codec,
            versioned=versioned,
            can_create=can_create,
            hint_line=request.range.start_line if request.range else None,
            annotation=annotation,
        )
        for error in plan.errors:
            self._report(request, error)
        if plan.empty:
            return False
        if annotation is None and not await self._confirm(request, plan.applied_paths):
            applied, reason = False, "declined"
        else:
            try:
                response = await self._server.workspace_apply_edit_async(
                    types.ApplyWorkspaceEditParams(
                        edit=plan.edit, label=f"llmgenie: {request.crew}"
                    )
                )
            except Exception as exc:
                self._report(request, f"the editor refused the edit: {exc}")
                return False
            applied = bool(getattr(response, "applied", False))
            reason = getattr(response, "failure_reason", None) or "rejected by the editor"
        self._notify(
            NOTIFY_RUN_EVENT,
            {
                "runId": request.run_id,
                "kind": "status",
                "message": "edit applied" if applied else "edit rejected",
                "data": {"applied": applied, "paths": plan.applied_paths},
            },
        )
        if not applied:
            self._report(request, f"edit not applied: {reason}")
        await self._app.runs.record_edit_applied(request.run_id, plan.applied_paths, applied)
        return applied

    async def _confirm(self, request: RunRequest, paths: list[str]) -> bool:
        """Ask the user (window/showMessageRequest) whether to apply a run's edit."""
        shown = ", ".join(paths[:3]) + (f" and {len(paths) - 3} more" if len(paths) > 3 else "")
        params = types.ShowMessageRequestParams(
            type=types.MessageType.Info,
            message=f"llmgenie {request.crew} proposes changes to {shown}. Apply them?",
            actions=[types.MessageActionItem(title=t) for t in (APPLY, "Discard")],
        )
        try:
            choice = await asyncio.wait_for(
                self._server.window_show_message_request_async(params), CONFIRM_TIMEOUT_S
            )
        except Exception as exc:  # no answer, or a client that cannot ask: do not apply
            _log.info("edit_confirmation_failed", run_id=request.run_id, error=repr(exc))
            return False
        return choice is not None and choice.title == APPLY

    def publish_findings(self, request: RunRequest, findings: list[Finding]) -> None:
        folder = self._folder(request)
        if folder is None:
            return
        by_uri: dict[str, list[types.Diagnostic]] = {}
        for finding in findings:
            uri = path_to_uri(folder.root / finding.path)
            doc = self._server.workspace.text_documents.get(uri)
            rng = lines_range(
                doc.source if doc else None,
                finding.start_line,
                finding.end_line,
                self._server.workspace.position_codec,
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

    def _publish(self, uri: str) -> None:
        diags = [d for crew in self._diagnostics.get(uri, {}).values() for d in crew]
        self._server.text_document_publish_diagnostics(
            types.PublishDiagnosticsParams(uri=uri, diagnostics=diags)
        )

    def _report(self, request: RunRequest, message: str) -> None:
        _log.warning("run_edit_failed", run_id=request.run_id, problem=message)
        self._show(f"llmgenie {request.crew}: {message}", types.MessageType.Error)
        self._notify(
            NOTIFY_RUN_EVENT,
            {
                "runId": request.run_id,
                "kind": "error",
                "message": message,
                "data": {"reason": "edit_failed"},
            },
        )
