/**
 * Inline edit (Ctrl+I on a selection): the user says what to change, the chat answers with
 * the selection rewritten (the exchange stays in the chat history), and the change opens as
 * a diff in the refactor preview to apply or discard. The pure part is core/inlineEdit.ts.
 */
import * as vscode from 'vscode';
import { inlineEditInstructions, replacementFrom } from '../core/inlineEdit';
import type { ChatViewProvider } from './chatViewProvider';

/** The selection widened to whole lines (a selection ending at column 0 stops on the line before). */
function wholeLines(doc: vscode.TextDocument, sel: vscode.Selection): vscode.Range {
  let last = sel.end.line;
  if (!sel.isEmpty && sel.end.character === 0 && last > sel.start.line) {
    last -= 1;
  }
  const end = last + 1 < doc.lineCount ? new vscode.Position(last + 1, 0) : doc.lineAt(last).range.end;
  return new vscode.Range(new vscode.Position(sel.start.line, 0), end);
}

export async function inlineEdit(chat: ChatViewProvider): Promise<void> {
  const editor = vscode.window.activeTextEditor;
  if (!editor) {
    void vscode.window.showWarningMessage('llmgenie: select the code to edit in an editor first.');
    return;
  }
  const doc = editor.document;
  const range = wholeLines(doc, editor.selection);
  const lines = range.end.line - range.start.line + (range.end.character === 0 ? 0 : 1);
  const file = vscode.workspace.asRelativePath(doc.uri, false);
  const where = `${file}:${range.start.line + 1}${lines > 1 ? `-${range.start.line + lines}` : ''}`;
  const instruction = await vscode.window.showInputBox({
    title: `llmgenie: edit ${where}`,
    prompt: 'What should change? The result opens as a diff to apply or discard.',
    placeHolder: 'e.g. handle an empty list',
  });
  if (!instruction?.trim()) {
    return;
  }
  const selected = doc.getText(range);
  const result = await vscode.window.withProgress(
    { location: vscode.ProgressLocation.Notification, title: `llmgenie: editing ${where}…`, cancellable: true },
    (_progress, token) =>
      chat.ask(instruction, { uri: doc.uri, range, title: `Edit · ${where}`, instructions: inlineEditInstructions(doc.languageId, lines), token }),
  );
  if (!result || result.cancelled) {
    if (!result) {
      void vscode.window.showWarningMessage('llmgenie: the edit failed; the chat panel says why.');
    }
    return;
  }
  const replacement = replacementFrom(result.text, selected);
  if (!replacement.ok) {
    void vscode.window.showWarningMessage(`llmgenie: nothing to apply: ${replacement.reason} (the answer is in the chat).`);
    return;
  }
  if (doc.getText(range) !== selected) {
    void vscode.window.showWarningMessage('llmgenie: the code changed while the model worked; the proposal is in the chat.');
    return;
  }
  const edit = new vscode.WorkspaceEdit();
  edit.replace(doc.uri, range, replacement.text, { label: 'llmgenie: inline edit', description: instruction.trim(), needsConfirmation: true });
  await vscode.workspace.applyEdit(edit, { isRefactoring: true });
}
