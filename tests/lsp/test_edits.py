"""ProposedEdit -> WorkspaceEdit: exact placement, UTF-16 columns, refusals instead of guesses."""

from __future__ import annotations

from lsprotocol import types
from pygls.workspace.position_codec import PositionCodec

from llmgenie.contracts.runs import ProposedEdit
from llmgenie.lsp.edits import DocumentText, plan_workspace_edit

CODEC = PositionCodec(types.PositionEncodingKind.Utf16)
TEXT = 'def greet(name):\n    return f"héllo 😀 {name}"\n\n\ndef greet(name):\n    pass\n'


def _reader(files: dict[str, str | None], versions: dict[str, int] | None = None):  # type: ignore[no-untyped-def]
    def read(path: str) -> DocumentText:
        return DocumentText(
            uri=f"file:///ws/{path}", text=files.get(path), version=(versions or {}).get(path)
        )

    return read


def test_edit_is_placed_with_utf16_columns() -> None:
    edit = ProposedEdit(path="a.py", old_text="{name}", new_text="{name!r}")
    text = 'x = 1\nprint(f"😀 {name}")\n'
    plan = plan_workspace_edit(
        [edit], _reader({"a.py": text}), CODEC, versioned=False, can_create=False
    )
    assert plan.errors == []
    [text_edit] = plan.edit.changes["file:///ws/a.py"]
    # "😀" is two UTF-16 code units: `{` is at column 11, not 10.
    assert text_edit.range.start == types.Position(line=1, character=11)
    assert text_edit.range.end == types.Position(line=1, character=17)


def test_versioned_document_edit_for_open_buffers() -> None:
    edit = ProposedEdit(path="a.py", old_text="pass", new_text="return None")
    plan = plan_workspace_edit(
        [edit], _reader({"a.py": TEXT}, {"a.py": 7}), CODEC, versioned=True, can_create=False
    )
    [change] = plan.edit.document_changes
    assert isinstance(change, types.TextDocumentEdit)
    assert change.text_document.version == 7
    assert change.edits[0].range.start == types.Position(line=5, character=4)


def test_missing_old_text_refuses_the_file() -> None:
    edits = [
        ProposedEdit(path="a.py", old_text="pass", new_text="return 1"),
        ProposedEdit(
            path="a.py", old_text="def gone():", new_text="def here():", description="rename"
        ),
    ]
    plan = plan_workspace_edit(
        edits, _reader({"a.py": TEXT}), CODEC, versioned=False, can_create=False
    )
    assert plan.empty
    assert plan.errors == [
        "a.py: edit 'rename' not applied: the text it replaces is no longer in the file"
    ]


def test_ambiguous_old_text_uses_the_run_range_or_refuses() -> None:
    edit = ProposedEdit(
        path="a.py", old_text="def greet(name):\n", new_text="def greet(name: str):\n"
    )
    refused = plan_workspace_edit(
        [edit], _reader({"a.py": TEXT}), CODEC, versioned=False, can_create=False
    )
    assert refused.empty and "occurs more than once" in refused.errors[0]
    near_second = plan_workspace_edit(
        [edit], _reader({"a.py": TEXT}), CODEC, versioned=False, can_create=False, hint_line=5
    )
    [text_edit] = near_second.edit.changes["file:///ws/a.py"]
    assert text_edit.range.start.line == 4


def test_overlapping_edits_are_refused() -> None:
    edits = [
        ProposedEdit(path="a.py", old_text="return f", new_text="return"),
        ProposedEdit(path="a.py", old_text='f"héllo', new_text="'hi"),
    ]
    plan = plan_workspace_edit(
        edits, _reader({"a.py": TEXT}), CODEC, versioned=False, can_create=False
    )
    assert plan.empty and "overlap" in plan.errors[0]


def test_new_file_only_with_create_support() -> None:
    edit = ProposedEdit(path="Dockerfile", old_text="", new_text="FROM python:3.11-slim\n")
    plan = plan_workspace_edit([edit], _reader({}), CODEC, versioned=True, can_create=True)
    create, insert = plan.edit.document_changes
    assert isinstance(create, types.CreateFile) and create.uri == "file:///ws/Dockerfile"
    assert isinstance(insert, types.TextDocumentEdit)
    assert insert.edits[0].new_text == "FROM python:3.11-slim\n"
    refused = plan_workspace_edit([edit], _reader({}), CODEC, versioned=False, can_create=False)
    assert refused.empty and "does not exist" in refused.errors[0]


def test_one_bad_file_does_not_block_another() -> None:
    edits = [
        ProposedEdit(path="a.py", old_text="nowhere", new_text="x"),
        ProposedEdit(path="b.py", old_text="b = 1", new_text="b = 2"),
    ]
    plan = plan_workspace_edit(
        edits, _reader({"a.py": TEXT, "b.py": "b = 1\n"}), CODEC, versioned=False, can_create=False
    )
    assert plan.applied_paths == ["b.py"] and len(plan.errors) == 1
    assert list(plan.edit.changes) == ["file:///ws/b.py"]


def test_an_annotated_edit_asks_for_confirmation_on_every_change() -> None:
    edits = [
        ProposedEdit(path="a.py", old_text="pass", new_text="return None"),
        ProposedEdit(path="new.py", old_text="", new_text="x = 1\n"),
    ]
    annotation = types.ChangeAnnotation(label="llmgenie fix", needs_confirmation=True)
    plan = plan_workspace_edit(
        edits,
        _reader({"a.py": TEXT, "new.py": None}),
        CODEC,
        versioned=True,
        can_create=True,
        annotation=annotation,
    )
    assert plan.edit.change_annotations is not None
    [(annotation_id, sent)] = plan.edit.change_annotations.items()
    assert sent.needs_confirmation is True
    changes = plan.edit.document_changes or []
    created = [c for c in changes if isinstance(c, types.CreateFile)]
    assert [c.annotation_id for c in created] == [annotation_id]
    text_edits = [e for c in changes if isinstance(c, types.TextDocumentEdit) for e in c.edits]
    assert len(text_edits) == 2
    assert all(
        isinstance(e, types.AnnotatedTextEdit) and e.annotation_id == annotation_id
        for e in text_edits
    )
    # A client without document changes cannot carry annotations: a plain edit instead.
    plain = plan_workspace_edit(
        edits[:1], _reader({"a.py": TEXT}), CODEC, versioned=False, can_create=False,
        annotation=annotation,
    )  # fmt: skip
    assert plain.edit.change_annotations is None and plain.edit.changes
