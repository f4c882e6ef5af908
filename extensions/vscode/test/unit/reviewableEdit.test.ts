import { describe, expect, it } from 'vitest';
import { REVIEW_ANNOTATION, describeEdit, makeReviewable, withoutConfirmation } from '../../src/core/reviewableEdit';

const range = { start: { line: 0, character: 0 }, end: { line: 0, character: 0 } };

describe('makeReviewable', () => {
  it('turns `changes` into annotated document edits that need confirmation', () => {
    const out = makeReviewable({ changes: { 'file:///a.py': [{ range, newText: '"""Doc."""\n' }] } }, 'Document add');
    expect(out.changes).toBeUndefined();
    expect(out.documentChanges).toEqual([
      { textDocument: { uri: 'file:///a.py', version: null }, edits: [{ range, newText: '"""Doc."""\n', annotationId: REVIEW_ANNOTATION }] },
    ]);
    expect(out.changeAnnotations?.[REVIEW_ANNOTATION]).toMatchObject({ label: 'Document add', needsConfirmation: true });
  });

  it('annotates documentChanges and file operations, and forces confirmation on existing annotations', () => {
    const out = makeReviewable(
      {
        documentChanges: [
          { textDocument: { uri: 'file:///b.py', version: 3 }, edits: [{ range, newText: 'x', annotationId: 'mine' }] },
          { kind: 'create', uri: 'file:///Dockerfile' },
        ],
        changeAnnotations: { mine: { label: 'server label' } },
      },
      undefined,
    );
    const [edit, create] = out.documentChanges ?? [];
    expect(edit).toMatchObject({ textDocument: { version: 3 }, edits: [{ annotationId: 'mine' }] });
    expect(create).toMatchObject({ kind: 'create', annotationId: REVIEW_ANNOTATION });
    expect(out.changeAnnotations?.mine).toEqual({ label: 'server label', needsConfirmation: true });
    expect(out.changeAnnotations?.[REVIEW_ANNOTATION]?.label).toBe('llmgenie: proposed edit');
  });

  it('drops the confirmation the server asked for when previews are off', () => {
    const edit = {
      documentChanges: [{ textDocument: { uri: 'file:///b.py', version: 3 }, edits: [{ range, newText: 'x', annotationId: 'llmgenie.agent-edit' }] }],
      changeAnnotations: { 'llmgenie.agent-edit': { label: 'llmgenie document', needsConfirmation: true } },
    };
    const out = withoutConfirmation(edit);
    expect(out.changeAnnotations?.['llmgenie.agent-edit']).toEqual({ label: 'llmgenie document', needsConfirmation: false });
    expect(out.documentChanges).toEqual(edit.documentChanges);
    expect(withoutConfirmation({ changes: {} })).toEqual({ changes: {} });
  });

  it('describes the size of an edit', () => {
    expect(describeEdit({ changes: { a: [{ range, newText: '' }, { range, newText: '' }], b: [{ range, newText: '' }] } })).toBe('3 edits in 2 files');
    expect(describeEdit({ documentChanges: [{ textDocument: { uri: 'a', version: 1 }, edits: [{ range, newText: '' }] }] })).toBe('1 edit in 1 file');
  });
});
