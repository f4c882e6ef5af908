/**
 * Makes a server WorkspaceEdit reviewable: every text edit gets a change annotation with
 * `needsConfirmation`, which VS Code shows in its refactor preview (the user applies or
 * discards it there) instead of applying silently. Works on LSP JSON, so it is testable.
 */

interface LspTextEdit {
  range: unknown;
  newText: string;
  annotationId?: string;
}
interface LspTextDocumentEdit {
  textDocument: { uri: string; version: number | null };
  edits: LspTextEdit[];
}
interface LspChangeAnnotation {
  label: string;
  needsConfirmation?: boolean;
  description?: string;
}
export interface LspWorkspaceEdit {
  changes?: Record<string, LspTextEdit[]>;
  documentChanges?: Array<LspTextDocumentEdit | { kind: string; annotationId?: string; [k: string]: unknown }>;
  changeAnnotations?: Record<string, LspChangeAnnotation>;
}

export const REVIEW_ANNOTATION = 'llmgenie.review';

const isTextDocumentEdit = (c: unknown): c is LspTextDocumentEdit =>
  typeof c === 'object' && c !== null && 'textDocument' in c && 'edits' in c;

/** Returns a copy of `edit` in which every change needs the user's confirmation. */
export function makeReviewable(edit: LspWorkspaceEdit, label: string | undefined): LspWorkspaceEdit {
  const annotation: LspChangeAnnotation = {
    label: label?.trim() || 'llmgenie: proposed edit',
    needsConfirmation: true,
    description: 'Proposed by llmgenie',
  };
  const changeAnnotations: Record<string, LspChangeAnnotation> = {};
  for (const [id, a] of Object.entries(edit.changeAnnotations ?? {})) {
    changeAnnotations[id] = { ...a, needsConfirmation: true };
  }
  changeAnnotations[REVIEW_ANNOTATION] = annotation;
  const annotate = (e: LspTextEdit): LspTextEdit => ({ ...e, annotationId: e.annotationId ?? REVIEW_ANNOTATION });

  const documentChanges: NonNullable<LspWorkspaceEdit['documentChanges']> = [];
  for (const change of edit.documentChanges ?? []) {
    if (isTextDocumentEdit(change)) {
      documentChanges.push({ ...change, edits: change.edits.map(annotate) });
    } else {
      documentChanges.push({ ...change, annotationId: change.annotationId ?? REVIEW_ANNOTATION });
    }
  }
  // `changes` cannot carry annotations: convert them to unversioned document edits
  for (const [uri, edits] of Object.entries(edit.changes ?? {})) {
    documentChanges.push({ textDocument: { uri, version: null }, edits: edits.map(annotate) });
  }
  return { documentChanges, changeAnnotations };
}

/**
 * Returns a copy of `edit` that applies without asking (`llmgenie.previewEdits` off): the
 * server marks agent edits `needsConfirmation`, which VS Code would otherwise honour.
 */
export function withoutConfirmation(edit: LspWorkspaceEdit): LspWorkspaceEdit {
  if (!edit.changeAnnotations) {
    return edit;
  }
  const changeAnnotations = Object.fromEntries(
    Object.entries(edit.changeAnnotations).map(([id, a]) => [id, { ...a, needsConfirmation: false }]),
  );
  return { ...edit, changeAnnotations };
}

/** How many text edits, in how many files: "3 edits in 2 files". */
export function describeEdit(edit: LspWorkspaceEdit): string {
  let edits = 0;
  const files = new Set<string>();
  for (const [uri, list] of Object.entries(edit.changes ?? {})) {
    files.add(uri);
    edits += list.length;
  }
  for (const c of edit.documentChanges ?? []) {
    if (isTextDocumentEdit(c)) {
      files.add(c.textDocument.uri);
      edits += c.edits.length;
    }
  }
  return `${edits} edit${edits === 1 ? '' : 's'} in ${files.size} file${files.size === 1 ? '' : 's'}`;
}
