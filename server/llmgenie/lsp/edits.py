"""Turn a run's ProposedEdits (exact-text replacements) into an LSP WorkspaceEdit.

An edit is located by searching its `old_text` in the file's *current* text (the editor's
buffer when open). If the text is gone, or occurs more than once with nothing to choose
between the occurrences, the file's edits are refused with a clear reason instead of
guessing: a wrong edit is worse than none. Edits of one file are all-or-nothing.

With an `annotation` (clients with change-annotation support), every change carries it, so
an editor that honours `needsConfirmation` asks the user before applying an agent's edit.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass, field

from lsprotocol import types
from pygls.workspace.position_codec import PositionCodec

from llmgenie.contracts.runs import ProposedEdit
from llmgenie.lsp.positions import range_of_span


@dataclass(frozen=True, slots=True)
class DocumentText:
    """The current text of a file and, when open in the editor, its version."""

    uri: str
    text: str | None
    version: int | None = None


@dataclass(slots=True)
class EditPlan:
    """The WorkspaceEdit to send, plus the edits that could not be placed and why."""

    edit: types.WorkspaceEdit
    applied_paths: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not self.applied_paths


ANNOTATION_ID = "llmgenie.agent-edit"


def _annotated(edit: types.TextEdit) -> types.AnnotatedTextEdit:
    return types.AnnotatedTextEdit(
        range=edit.range, new_text=edit.new_text, annotation_id=ANNOTATION_ID
    )


def _locate(text: str, old: str, hint_offset: int | None) -> tuple[int, str | None]:
    """Offset of `old` in `text`, or -1 and a reason; ties are broken by `hint_offset`."""
    first = text.find(old)
    if first < 0:
        return -1, "the text it replaces is no longer in the file"
    second = text.find(old, first + 1)
    if second < 0:
        return first, None
    if hint_offset is None:
        return -1, "the text it replaces occurs more than once"
    occurrences = [first]
    pos = first
    while pos >= 0:
        pos = text.find(old, pos + 1)
        if pos >= 0:
            occurrences.append(pos)
    return min(occurrences, key=lambda o: abs(o - hint_offset)), None


def _file_edits(
    path: str, edits: list[ProposedEdit], text: str, codec: PositionCodec, hint_line: int | None
) -> tuple[list[types.TextEdit], str | None]:
    hint_offset = None
    if hint_line is not None:
        hint_offset = sum(len(line) for line in text.splitlines(keepends=True)[: hint_line - 1])
    spans: list[tuple[int, int, str]] = []
    for edit in edits:
        if edit.old_text == "":
            start, reason = (len(text), None) if text == "" else (-1, "empty old_text")
        else:
            start, reason = _locate(text, edit.old_text, hint_offset)
        if reason is not None:
            label = edit.description or edit.old_text.strip().splitlines()[0][:60]
            return [], f"{path}: edit '{label}' not applied: {reason}"
        spans.append((start, start + len(edit.old_text), edit.new_text))
    spans.sort()
    for (_, end_a, _), (start_b, _, _) in itertools.pairwise(spans):
        if start_b < end_a:
            return [], f"{path}: edits overlap; none applied"
    return [
        types.TextEdit(range=range_of_span(text, s, e, codec), new_text=new) for s, e, new in spans
    ], None


def plan_workspace_edit(
    edits: list[ProposedEdit],
    read: Callable[[str], DocumentText],
    codec: PositionCodec,
    *,
    versioned: bool,
    can_create: bool,
    hint_line: int | None = None,
    annotation: types.ChangeAnnotation | None = None,
) -> EditPlan:
    """Build one WorkspaceEdit for `edits`; `read(path)` returns the file's current text.
    An `annotation` needs `versioned` (document changes are the only ones that carry one)."""
    annotate = annotation is not None and versioned
    by_path: dict[str, list[ProposedEdit]] = {}
    for edit in edits:
        by_path.setdefault(edit.path, []).append(edit)
    plan = EditPlan(edit=types.WorkspaceEdit())
    changes: dict[str, list[types.TextEdit]] = {}
    document_changes: list[types.TextDocumentEdit | types.CreateFile] = []
    for path, file_edits in by_path.items():
        current = read(path)
        if current.text is None:
            # A new file: only a pure insertion (old_text "") can create it.
            if not can_create or any(e.old_text for e in file_edits):
                plan.errors.append(f"{path}: file does not exist; edit not applied")
                continue
            document_changes.append(
                types.CreateFile(
                    uri=current.uri,
                    options=types.CreateFileOptions(overwrite=False),
                    annotation_id=ANNOTATION_ID if annotate else None,
                )
            )
            text_edits, error = _file_edits(path, file_edits, "", codec, None)
        else:
            text_edits, error = _file_edits(path, file_edits, current.text, codec, hint_line)
        if error is not None:
            plan.errors.append(error)
            continue
        plan.applied_paths.append(path)
        changes[current.uri] = text_edits
        document_changes.append(
            types.TextDocumentEdit(
                text_document=types.OptionalVersionedTextDocumentIdentifier(
                    uri=current.uri, version=current.version
                ),
                edits=[_annotated(e) for e in text_edits] if annotate else list(text_edits),
            )
        )
    if annotation is not None and annotate:
        plan.edit = types.WorkspaceEdit(
            document_changes=document_changes, change_annotations={ANNOTATION_ID: annotation}
        )
    elif versioned or any(isinstance(c, types.CreateFile) for c in document_changes):
        plan.edit = types.WorkspaceEdit(document_changes=document_changes)
    else:
        plan.edit = types.WorkspaceEdit(changes=changes)
    return plan
