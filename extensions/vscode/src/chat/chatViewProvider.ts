/**
 * The chat panel (a webview view in the llmgenie sidebar). The extension host owns the chat
 * state (core/chatState.ts reducer), persists it per workspace, talks to the server, and
 * sends message snapshots to the webview, which only renders them.
 */
import * as vscode from 'vscode';
import { ResponseError } from 'vscode-languageclient/node';
import {
  activeRun,
  chatReducer,
  feedbackTarget,
  fromPersisted,
  historyFor,
  toPersisted,
  type ChatAction,
  type ChatMessage,
  type ChatState,
} from '../core/chatState';
import { extractCodeBlocks } from '../core/codeBlocks';
import { planMerge } from '../core/codeMerge';
import { FEEDBACK_VERDICTS } from '../core/generated/catalog';
import { CREWS, Methods, ServerCommands, type ChatParams, type ChatResult, type RunCrewArgs, type RunEventParams, type WireRange } from '../core/protocol';
import { parseSlash } from '../core/slashCommands';
import { chipLabel, parseMentions, promptWithAttachments, type MentionKind } from '../core/mentions';
import { MentionSource } from './mentionSource';
import { chosenModel, modelButton, pickerItems } from '../core/modelPicker';
import { validModelName, type ModelSetup } from '../core/modelSetup';
import type { RunStarted, ServerManager } from '../server/serverManager';
import { webviewHtml } from './webviewHtml';
import { firstExisting, foldersToTry } from '../core/folders';

const STATE_KEY = 'llmgenie.chat.v1';
const MODEL_KEY = 'llmgenie.chat.model';
const REQUEST_CANCELLED = -32800;

export interface AskOptions {
  uri?: vscode.Uri;
  range?: vscode.Range;
  title?: string;
  /** Sent after the prompt but not shown in the chat (e.g. how to format the answer). */
  instructions?: string;
  /** Cancels the request (e.g. a progress notification's Cancel). */
  token?: vscode.CancellationToken;
}

/** Messages the webview sends. */
type FromWebview =
  | { type: 'ready' }
  | { type: 'ask'; prompt: string }
  | { type: 'complete'; seq: number; kind?: MentionKind; query: string }
  | { type: 'stop' }
  | { type: 'pickModel' }
  | { type: 'clear' }
  | { type: 'codeAction'; action: 'copy' | 'insert' | 'apply'; messageId: string; index: number }
  | { type: 'openChip'; path: string; line?: number }
  | { type: 'openLink'; href: string }
  | { type: 'feedback'; messageId: string; verdict: string };

let counter = 0;
const newId = (prefix: string): string => `${prefix}-${Date.now().toString(36)}-${(counter++).toString(36)}`;

export class ChatViewProvider implements vscode.WebviewViewProvider, vscode.Disposable {
  static readonly viewId = 'llmgenie.chat';
  private view: vscode.WebviewView | undefined;
  private state: ChatState;
  private readonly cancellers = new Map<string, vscode.CancellationTokenSource>();
  private lastEditor: vscode.TextEditor | undefined = vscode.window.activeTextEditor;
  private persistTimer: NodeJS.Timeout | undefined;
  private readonly disposables: vscode.Disposable[] = [];
  private readonly mentions: MentionSource;
  /** The model picked in the chat for its turns (undefined: the configured one). */
  private chatModel: string | undefined;

  constructor(
    private readonly context: vscode.ExtensionContext,
    private readonly server: ServerManager,
  ) {
    this.state = fromPersisted(context.workspaceState.get(STATE_KEY));
    this.mentions = new MentionSource(server);
    this.chatModel = context.workspaceState.get<string>(MODEL_KEY) || undefined;
    this.disposables.push(
      server.onRunEvent((e) => this.onRunEvent(e)),
      server.onRunStarted((e) => this.onRunStarted(e)),
      server.onStatus(() => this.postModel()),
      vscode.window.onDidChangeActiveTextEditor((e) => {
        if (e) {
          this.lastEditor = e;
        }
      }),
    );
  }

  resolveWebviewView(view: vscode.WebviewView): void {
    this.view = view;
    const roots = [vscode.Uri.joinPath(this.context.extensionUri, 'out'), vscode.Uri.joinPath(this.context.extensionUri, 'media')];
    view.webview.options = { enableScripts: true, localResourceRoots: roots };
    view.webview.html = webviewHtml(view.webview, this.context.extensionUri);
    view.webview.onDidReceiveMessage((m: FromWebview) => void this.onWebviewMessage(m), undefined, this.disposables);
    view.onDidDispose(() => (this.view = undefined), undefined, this.disposables);
  }

  /** Opens the panel and puts the cursor in its input box. */
  async reveal(focusInput = true): Promise<void> {
    await vscode.commands.executeCommand(`${ChatViewProvider.viewId}.focus`);
    if (focusInput) {
      void this.post({ type: 'focusInput' });
    }
  }

  private post(message: unknown): Thenable<boolean> | undefined {
    return this.view?.webview.postMessage(message);
  }

  private postState(): void {
    void this.post({ type: 'state', messages: this.state.messages, busy: activeRun(this.state) !== undefined });
  }

  private dispatch(action: ChatAction): void {
    const before = new Map(this.state.messages.map((m) => [m.id, m]));
    this.state = chatReducer(this.state, action);
    if (action.type === 'clear') {
      this.postState();
    } else {
      // only send what changed: streaming re-renders one message, not the whole history
      for (const m of this.state.messages) {
        if (before.get(m.id) !== m) {
          void this.post({ type: 'upsert', message: m });
        }
      }
      void this.post({ type: 'busy', busy: activeRun(this.state) !== undefined });
    }
    this.schedulePersist();
  }

  private schedulePersist(): void {
    if (this.persistTimer) {
      return;
    }
    this.persistTimer = setTimeout(() => {
      this.persistTimer = undefined;
      void this.context.workspaceState.update(STATE_KEY, toPersisted(this.state));
    }, 500);
  }

  private async onWebviewMessage(m: FromWebview): Promise<void> {
    switch (m.type) {
      case 'ready':
        this.postState();
        this.postModel();
        return;
      case 'pickModel':
        await this.pickModel();
        return;
      case 'ask':
        await this.ask(m.prompt);
        return;
      case 'complete':
        void this.post({ type: 'completions', seq: m.seq, items: await this.mentions.complete(m.kind, m.query) });
        return;
      case 'stop':
        await this.stop();
        return;
      case 'clear':
        this.clear();
        return;
      case 'codeAction':
        await this.codeAction(m.action, m.messageId, m.index);
        return;
      case 'openChip':
        await this.openChip(m.path, m.line);
        return;
      case 'feedback':
        await this.feedback(m.messageId, m.verdict);
        return;
      case 'openLink':
        if (/^https?:/i.test(m.href)) {
          await vscode.env.openExternal(vscode.Uri.parse(m.href));
        } else {
          await this.openChip(m.href);
        }
        return;
    }
  }

  clear(): void {
    for (const c of this.cancellers.values()) {
      c.cancel();
    }
    this.dispatch({ type: 'clear' });
  }

  /** Sends a chat request; the answer streams in through llmgenie/runEvent deltas. Returns
   * the result (undefined when it failed, or for a slash command). */
  async ask(prompt: string, options: AskOptions = {}): Promise<ChatResult | undefined> {
    const text = prompt.trim();
    if (!text) {
      return undefined;
    }
    const slash = options.uri ? undefined : parseSlash(text, CREWS);
    if (slash?.kind === 'crew') {
      await this.runSlash(slash.crew.id, slash.prompt);
      return undefined;
    }
    if (slash) {
      this.note(text, slash.text);
      return undefined;
    }
    const history = historyFor(this.state);
    const userId = newId('user');
    const assistantId = newId('answer');
    const uri = options.uri?.toString();
    // @file/@folder/@symbol: their content goes with the question, shown as chips on it
    const attachments = await this.mentions.resolve(parseMentions(text));
    const chips = attachments
      .filter((a) => !a.missing)
      .map((a) => ({ label: chipLabel(a), path: a.path, startLine: a.startLine }));
    this.dispatch({ type: 'userAsked', userId, assistantId, prompt: text, title: options.title, uri, context: chips });
    const c2p = this.server.code2Protocol;
    const params: ChatParams = { prompt: promptWithAttachments(text, attachments) + (options.instructions ?? ''), history };
    if (this.chatModel) {
      params.model = this.chatModel;
    }
    if (uri) {
      params.uri = uri;
    }
    if (options.range && c2p) {
      params.range = c2p.asRange(options.range) as WireRange;
    }
    const cancel = new vscode.CancellationTokenSource();
    this.cancellers.set(assistantId, cancel);
    const linked = options.token?.onCancellationRequested(() => cancel.cancel());
    try {
      const result = await this.server.request<ChatResult>(Methods.chat, params, cancel.token);
      this.dispatch({ type: 'chatCompleted', assistantId, result });
      return result;
    } catch (err) {
      const cancelled = cancel.token.isCancellationRequested || (err instanceof ResponseError && err.code === REQUEST_CANCELLED);
      this.dispatch({ type: 'chatFailed', assistantId, error: err instanceof Error ? err.message : String(err), cancelled });
      return undefined;
    } finally {
      linked?.dispose();
      this.cancellers.delete(assistantId);
      cancel.dispose();
    }
  }

  private postModel(): void {
    const configured = this.server.status?.model.model;
    void this.post({ type: 'model', ...modelButton(this.chatModel, configured), picked: this.chatModel !== undefined });
  }

  /** The chat's model picker: the next turns go to the chosen model (sent with each
   * llmgenie/chat request), with no restart and no settings change. */
  async pickModel(): Promise<void> {
    const status = this.server.status?.model;
    const agentModels = vscode.workspace.getConfiguration('llmgenie').get<Record<string, string>>('agentModels', {});
    const items = (async () => {
      let suggested: string | null = null;
      if (this.server.running) {
        try {
          suggested = (await this.server.executeCommand<ModelSetup>(ServerCommands.configureModel, { quiet: true })).suggested;
        } catch (err) {
          this.server.log.appendLine(`[chat] looking for a local model failed: ${String(err)}`);
        }
      }
      return pickerItems({ configured: status?.model, fallbacks: status?.fallbacks, agentModels, suggested, current: this.chatModel });
    })();
    const pick = await vscode.window.showQuickPick(items, {
      title: 'llmgenie: model for this chat',
      placeHolder: 'The chat answers with this model from the next question on (nothing restarts)',
    });
    if (!pick) {
      return;
    }
    let model: string | undefined;
    if (pick.action === 'use') {
      model = pick.model;
    } else if (pick.action === 'enter') {
      model = await vscode.window.showInputBox({ title: 'llmgenie: model for this chat', placeHolder: 'openai/gpt-4o-mini', validateInput: validModelName });
      if (model === undefined) {
        return;
      }
    }
    this.chatModel = chosenModel(model, status?.model);
    await this.context.workspaceState.update(MODEL_KEY, this.chatModel);
    this.postModel();
  }

  /** `/crew request`: run that crew on the active editor's selection (else its file); its
   * progress and result arrive as run events like any crew's. */
  private async runSlash(crew: string, prompt: string): Promise<void> {
    const args: RunCrewArgs = { crew };
    // The chat has the focus: the editor the user came from is the one they mean.
    const editor = vscode.window.activeTextEditor ?? this.lastEditor;
    const c2p = this.server.code2Protocol;
    if (editor) {
      args.uri = editor.document.uri.toString();
      if (!editor.selection.isEmpty && c2p) {
        args.range = c2p.asRange(editor.selection) as WireRange;
      }
    }
    if (prompt) {
      args.prompt = prompt;
    }
    try {
      await this.server.executeCommand(ServerCommands.runCrew, args);
    } catch (err) {
      this.note(`/${crew} ${prompt}`.trim(), err instanceof Error ? err.message : String(err));
    }
  }

  /** A local answer (help, a missing request) shown as an exchange, with no server call. */
  private note(prompt: string, text: string): void {
    const assistantId = newId('answer');
    this.dispatch({ type: 'userAsked', userId: newId('user'), assistantId, prompt });
    this.dispatch({ type: 'chatCompleted', assistantId, result: { runId: '', text } });
  }

  /** Stops the newest active run: llmgenie/runs/cancel for its runId, $/cancelRequest for a chat request. */
  async stop(): Promise<boolean> {
    const run = activeRun(this.state);
    if (!run) {
      return false;
    }
    await this.cancelMessage(run);
    return true;
  }

  /** The thumbs on an answer: recorded by the server (audited, counted) where the run ran. */
  private async feedback(messageId: string, verdict: string): Promise<void> {
    const runId = feedbackTarget(this.state, messageId);
    const known = FEEDBACK_VERDICTS.find((v) => v === verdict);
    if (!runId || !known) {
      return;
    }
    try {
      await this.server.request<{ recorded: boolean }>(Methods.runsFeedback, { runId, verdict: known });
      this.dispatch({ type: 'feedbackRecorded', id: messageId, verdict: known });
    } catch (err) {
      this.server.log.appendLine(`[chat] llmgenie/runs/feedback failed: ${String(err)}`);
      void vscode.window.showWarningMessage(`llmgenie: the feedback was not recorded (${String(err)})`);
      const m = this.state.messages.find((x) => x.id === messageId);
      if (m) void this.post({ type: 'upsert', message: m }); // re-enables the thumbs
    }
  }

  async cancelRunId(runId: string): Promise<boolean> {
    const m = this.state.messages.find((x) => x.runId === runId);
    if (m) {
      await this.cancelMessage(m);
      return true;
    }
    const r = await this.server.request<{ cancelled: boolean }>(Methods.runsCancel, { runId });
    return r.cancelled;
  }

  private async cancelMessage(m: ChatMessage): Promise<void> {
    if (m.runId) {
      try {
        await this.server.request<{ cancelled: boolean }>(Methods.runsCancel, { runId: m.runId });
      } catch (err) {
        this.server.log.appendLine(`[chat] llmgenie/runs/cancel failed: ${String(err)}`);
      }
    }
    const canceller = this.cancellers.get(m.id);
    if (canceller) {
      canceller.cancel();
    } else if (!m.runId) {
      this.dispatch({ type: 'chatFailed', assistantId: m.id, error: 'stopped', cancelled: true });
    }
  }

  private onRunEvent(event: RunEventParams): void {
    const known = this.state.messages.some((m) => m.runId === event.runId) || this.state.pendingId !== undefined;
    this.dispatch({ type: 'runEvent', event });
    if (!known && !this.view?.visible) {
      void this.reveal(false);
    }
  }

  private onRunStarted(e: RunStarted): void {
    const file = e.uri ? vscode.workspace.asRelativePath(vscode.Uri.parse(e.uri)) : undefined;
    const crew = e.crew.charAt(0).toUpperCase() + e.crew.slice(1);
    this.dispatch({ type: 'runStarted', runId: e.runId, title: file ? `${crew} · ${file}` : crew, uri: e.uri });
    if (!this.view?.visible) {
      void this.reveal(false);
    }
  }

  runningRuns(): ChatMessage[] {
    return this.state.messages.filter((m) => m.role === 'assistant' && m.runId && (m.status === 'pending' || m.status === 'streaming'));
  }

  private async codeAction(action: 'copy' | 'insert' | 'apply', messageId: string, index: number): Promise<void> {
    const message = this.state.messages.find((m) => m.id === messageId);
    const block = message ? extractCodeBlocks(message.text)[index] : undefined;
    if (!block) {
      return;
    }
    if (action === 'copy') {
      await vscode.env.clipboard.writeText(block.code);
      void vscode.window.setStatusBarMessage('llmgenie: code copied', 2000);
      return;
    }
    const editor = this.targetEditor();
    if (!editor) {
      void vscode.window.showWarningMessage('llmgenie: open an editor to insert or apply code into.');
      return;
    }
    if (action === 'insert') {
      await vscode.window.showTextDocument(editor.document, editor.viewColumn);
      await editor.edit((b) => b.replace(editor.selection, block.code));
      return;
    }
    // Apply: the selection is replaced; with none the block is merged where it belongs
    // (core/codeMerge.ts). Either way through the refactor preview, to accept or discard.
    const doc = editor.document;
    const edit = new vscode.WorkspaceEdit();
    if (!editor.selection.isEmpty) {
      edit.replace(doc.uri, editor.selection, block.code, {
        label: 'llmgenie: apply code from chat',
        description: 'replaces the selection',
        needsConfirmation: true,
      });
    } else {
      const cursor = editor.selection.active;
      const plan = planMerge(doc.getText(), block.code, { line: cursor.line, character: cursor.character });
      if (plan.edits.length === 0) {
        return;
      }
      const annotation = { label: 'llmgenie: apply code from chat', description: plan.description, needsConfirmation: true };
      for (const e of plan.edits) {
        const range = new vscode.Range(e.range.start.line, e.range.start.character, e.range.end.line, e.range.end.character);
        edit.replace(doc.uri, range, e.newText, annotation);
      }
    }
    await vscode.workspace.applyEdit(edit, { isRefactoring: true });
  }

  private targetEditor(): vscode.TextEditor | undefined {
    const active = vscode.window.activeTextEditor;
    if (active) {
      return active;
    }
    const last = this.lastEditor;
    return last && vscode.window.visibleTextEditors.includes(last) ? last : vscode.window.visibleTextEditors[0];
  }

  private async openChip(p: string, line?: number): Promise<void> {
    if (!p) {
      return; // a chip with nothing to open (@knowledge)
    }
    let uri: vscode.Uri | undefined;
    if (/^[a-z][a-z0-9+.-]+:\/\//i.test(p)) {
      uri = vscode.Uri.parse(p);
    } else if (p.startsWith('/') || /^[a-zA-Z]:[\\/]/.test(p)) {
      uri = vscode.Uri.file(p);
    } else {
      // Multi-root: the folder of the editor the chat is about first, then any folder
      // that has the file.
      const editor = this.targetEditor();
      const active = editor ? vscode.workspace.getWorkspaceFolder(editor.document.uri) : undefined;
      const folders = foldersToTry(vscode.workspace.workspaceFolders ?? [], active);
      const candidates = folders.map((f) => vscode.Uri.joinPath(f.uri, p));
      uri = await firstExisting(candidates, async (c) => {
        try {
          await vscode.workspace.fs.stat(c);
          return true;
        } catch {
          return false;
        }
      });
    }
    if (!uri) {
      return;
    }
    const isFolder = await Promise.resolve(vscode.workspace.fs.stat(uri)).then(
      (s) => (s.type & vscode.FileType.Directory) !== 0,
      () => false,
    );
    if (isFolder) {
      await vscode.commands.executeCommand('revealInExplorer', uri); // an @folder chip
      return;
    }
    const pos = new vscode.Position(Math.max(0, (line ?? 1) - 1), 0);
    await vscode.window.showTextDocument(uri, { selection: new vscode.Range(pos, pos), preview: true });
  }

  dispose(): void {
    if (this.persistTimer) {
      clearTimeout(this.persistTimer);
      void this.context.workspaceState.update(STATE_KEY, toPersisted(this.state));
    }
    for (const c of this.cancellers.values()) {
      c.dispose();
    }
    for (const d of this.disposables) {
      d.dispose();
    }
  }
}
