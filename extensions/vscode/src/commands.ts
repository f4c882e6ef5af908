/**
 * Palette commands. Each maps to a server command or request from docs/protocol.md; results
 * open as documents, quick picks or the chat panel. Command ids live under `llmgenie.ui.*`
 * because the language client registers the server's own `llmgenie.*` command ids.
 */
import * as vscode from 'vscode';
import type { ChatViewProvider } from './chat/chatViewProvider';
import { inlineEdit } from './chat/inlineEdit';
import { computeStatus } from './core/statusText';
import { normalizeServerUrl, passwordGrant, revokeToken, type Fetch } from './core/teamSignIn';
import type { TeamRun, TeamRunsView } from './team/teamRunsView';
import { CREWS, Methods, ServerCommands, type LocalizationResult, type RunCrewArgs, type SearchResult, type WireRange } from './core/protocol';
import type { SecretStore } from './server/secrets';
import type { ServerManager } from './server/serverManager';
import { removeManagedEnvironment } from './server/pythonResolver';
import { configureModel } from './server/modelSetup';
import type { ModelSetup } from './core/modelSetup';
import { walkthroughRef } from './core/walkthrough';

async function guarded(what: string, f: () => Promise<unknown>): Promise<void> {
  try {
    await f();
  } catch (err) {
    void vscode.window.showErrorMessage(`llmgenie: ${what} failed: ${err instanceof Error ? err.message : String(err)}`);
  }
}

async function showJson(title: string, value: unknown): Promise<void> {
  const doc = await vscode.workspace.openTextDocument({ language: 'json', content: JSON.stringify(value, null, 2) });
  await vscode.window.showTextDocument(doc, { preview: true });
  void vscode.window.setStatusBarMessage(`llmgenie: ${title}`, 3000);
}

function editorContext(server: ServerManager): { uri?: string; range?: WireRange } {
  const editor = vscode.window.activeTextEditor;
  if (!editor) {
    return {};
  }
  const c2p = server.code2Protocol;
  const uri = editor.document.uri.toString();
  return editor.selection.isEmpty || !c2p ? { uri } : { uri, range: c2p.asRange(editor.selection) as WireRange };
}

export function registerCommands(
  context: vscode.ExtensionContext,
  server: ServerManager,
  chat: ChatViewProvider,
  secrets: SecretStore,
  teamRuns: TeamRunsView,
): void {
  const reg = (id: string, f: (...args: unknown[]) => unknown): void => {
    context.subscriptions.push(vscode.commands.registerCommand(id, f));
  };

  reg('llmgenie.ui.chat', () => chat.reveal(true));

  reg('llmgenie.ui.askAboutSelection', async () => {
    const editor = vscode.window.activeTextEditor;
    if (!editor) {
      await chat.reveal(true);
      return;
    }
    const selection = editor.selection.isEmpty ? editor.document.lineAt(editor.selection.active.line).range : editor.selection;
    const question = await vscode.window.showInputBox({
      title: 'llmgenie: Ask about Selection',
      prompt: `About ${vscode.workspace.asRelativePath(editor.document.uri)}:${selection.start.line + 1}-${selection.end.line + 1}`,
      placeHolder: 'What does this do? (Enter for a general explanation)',
    });
    if (question === undefined) {
      return;
    }
    await chat.reveal(false);
    await chat.ask(question.trim() || 'Explain this code.', { uri: editor.document.uri, range: selection });
  });

  reg('llmgenie.ui.runCrew', () =>
    guarded('running the crew', async () => {
      const pick = await vscode.window.showQuickPick(
        CREWS.map((c) => ({ label: c.label, detail: c.detail, crew: c })),
        { title: 'llmgenie: Run a Crew', placeHolder: 'What should the crew do?' },
      );
      if (!pick) {
        return;
      }
      const args: RunCrewArgs = { crew: pick.crew.id, ...editorContext(server) };
      if (pick.crew.heavy && server.status?.remote?.url) {
        const where = await vscode.window.showQuickPick(
          [
            { label: 'On the team server', detail: 'Heavy crews leave the laptop; results come back here', remote: true },
            { label: 'Here', detail: 'Run on this machine', remote: false },
          ],
          { title: `llmgenie: ${pick.label}: where?` },
        );
        if (!where) {
          return;
        }
        args.remote = where.remote;
      }
      if (pick.crew.needs_prompt) {
        const prompt = await vscode.window.showInputBox({ title: `llmgenie: ${pick.label}`, prompt: 'Your request' });
        if (!prompt) {
          return;
        }
        args.prompt = prompt;
      }
      await chat.reveal(false);
      await server.executeCommand(ServerCommands.runCrew, args);
    }),
  );

  reg('llmgenie.ui.search', () =>
    guarded('search', async () => {
      const query = await vscode.window.showInputBox({ title: 'llmgenie: Search Workspace', placeHolder: 'e.g. where are sessions persisted?' });
      if (!query) {
        return;
      }
      const result = await server.request<SearchResult>(Methods.search, { query, k: 30 });
      const items = result.chunks.map((c) => ({
        label: c.symbol ?? c.path,
        description: `${c.path}:${c.start_line}-${c.end_line}`,
        detail: `score ${c.score.toFixed(3)}`,
        chunk: c,
      }));
      if (items.length === 0) {
        void vscode.window.showInformationMessage(`llmgenie: no results for "${query}".`);
        return;
      }
      const pick = await vscode.window.showQuickPick(items, {
        title: `llmgenie: ${items.length} results for "${query}"${result.degraded?.length ? ` (degraded: ${result.degraded.join('; ')})` : ''}`,
        matchOnDescription: true,
      });
      if (pick) {
        // Hits carry the URI of their own workspace folder (multi-root workspaces).
        const uri = vscode.Uri.parse(pick.chunk.uri);
        const pos = new vscode.Position(Math.max(0, pick.chunk.start_line - 1), 0);
        await vscode.window.showTextDocument(uri, { selection: new vscode.Range(pos, pos) });
      }
    }),
  );

  reg('llmgenie.ui.localize', () =>
    guarded('find the code for a task', async () => {
      const task = await vscode.window.showInputBox({
        title: 'llmgenie: Find the Code for a Task',
        placeHolder: 'paste an issue or describe the change, e.g. "saving a draft loses the attachments"',
      });
      if (!task) {
        return;
      }
      const focus = vscode.window.activeTextEditor?.document.uri.toString();
      const result = await vscode.window.withProgress(
        { location: vscode.ProgressLocation.Notification, title: 'llmgenie: finding the code…', cancellable: true },
        (_progress, token) => server.request<LocalizationResult>(Methods.localize, focus ? { task, focus } : { task }, token),
      );
      const items = result.hits.map((hit) => ({
        label: hit.symbol ? `${hit.symbol}` : hit.path,
        description: hit.start_line ? `${hit.path}:${hit.start_line}-${hit.end_line ?? hit.start_line}` : hit.path,
        detail: hit.reasons.map((r) => r.detail ?? r.signal).join(' · '),
        hit,
      }));
      if (items.length === 0) {
        void vscode.window.showInformationMessage(`llmgenie: nothing found for this task. ${result.notes.join(' ')}`);
        return;
      }
      const by = result.source === 'model' ? `ranked by ${result.model ?? 'the model'}` : 'search only';
      const pick = await vscode.window.showQuickPick(items, {
        title: `llmgenie: ${items.length} places (${by})${result.notes.length ? ` — ${result.notes.join(' ')}` : ''}`,
        matchOnDescription: true,
        matchOnDetail: true,
      });
      if (pick) {
        const pos = new vscode.Position(Math.max(0, (pick.hit.start_line ?? 1) - 1), 0);
        await vscode.window.showTextDocument(vscode.Uri.parse(pick.hit.uri), { selection: new vscode.Range(pos, pos) });
      }
    }),
  );

  reg('llmgenie.ui.repoMap', () =>
    guarded('repo map', async () => {
      const focus = vscode.window.activeTextEditor?.document.uri.toString();
      const result = await server.request<{ map: string }>(Methods.repoMap, focus ? { focus } : {});
      const doc = await vscode.workspace.openTextDocument({ language: 'markdown', content: result.map });
      await vscode.window.showTextDocument(doc, { preview: true });
    }),
  );

  reg('llmgenie.ui.reindex', () =>
    guarded('reindex', async () => {
      await server.executeCommand(ServerCommands.reindex);
      void vscode.window.setStatusBarMessage('llmgenie: reindexing the workspace…', 3000);
    }),
  );
  reg('llmgenie.ui.pauseIndexing', () => guarded('pause indexing', () => server.executeCommand(ServerCommands.pauseIndexing)));
  reg('llmgenie.ui.resumeIndexing', () => guarded('resume indexing', () => server.executeCommand(ServerCommands.resumeIndexing)));

  reg('llmgenie.ui.cancelRun', () =>
    guarded('cancel', async () => {
      const runs = chat.runningRuns();
      let runId: string | undefined;
      if (runs.length === 1) {
        runId = runs[0]?.runId;
      } else if (runs.length > 1) {
        const pick = await vscode.window.showQuickPick(
          runs.map((r) => ({ label: r.title ?? r.text.slice(0, 60) ?? r.runId ?? '', description: r.runId, runId: r.runId })),
          { title: 'llmgenie: Cancel Run' },
        );
        runId = pick?.runId;
      } else {
        const list = await server.request<{ runs: Array<{ run_id: string; status: string; request?: { crew?: string } }> }>(Methods.runsList, {});
        const active = list.runs.filter((r) => r.status === 'running' || r.status === 'queued');
        if (active.length === 0) {
          void vscode.window.showInformationMessage('llmgenie: no run is active.');
          return;
        }
        const pick = await vscode.window.showQuickPick(
          active.map((r) => ({ label: r.request?.crew ?? 'run', description: r.run_id, runId: r.run_id })),
          { title: 'llmgenie: Cancel Run' },
        );
        runId = pick?.runId;
      }
      if (runId) {
        await chat.cancelRunId(runId);
      }
    }),
  );

  reg('llmgenie.ui.indexHealth', () =>
    guarded('index health', async () => showJson('index health', await server.request(Methods.health, {}))),
  );

  reg('llmgenie.ui.signIn', () =>
    guarded('sign in', async () => {
      const config = vscode.workspace.getConfiguration('llmgenie');
      const url = await vscode.window.showInputBox({
        title: 'llmgenie: Sign in to Team Server',
        prompt: 'Team server URL',
        value: config.get<string>('teamServerUrl') || 'https://',
        validateInput: (v) => {
          try {
            normalizeServerUrl(v);
            return undefined;
          } catch (err) {
            return String((err as Error).message);
          }
        },
      });
      if (!url) {
        return;
      }
      const how = await vscode.window.showQuickPick(
        [
          { label: 'Email and password', detail: 'Signs in; a refresh token is kept in the OS keychain', id: 'password' },
          { label: 'Personal access token', detail: 'Paste a token created on the team server (CI-style)', id: 'pat' },
        ],
        { title: 'llmgenie: Sign in to Team Server' },
      );
      if (!how) {
        return;
      }
      let token: string | undefined;
      if (how.id === 'password') {
        const email = await vscode.window.showInputBox({ title: 'llmgenie: Sign in', prompt: 'Email', ignoreFocusOut: true });
        const password = email
          ? await vscode.window.showInputBox({ title: 'llmgenie: Sign in', prompt: 'Password', password: true, ignoreFocusOut: true })
          : undefined;
        if (!email || !password) {
          return;
        }
        token = await passwordGrant(fetch as unknown as Fetch, url, email, password);
      } else {
        token = (
          await vscode.window.showInputBox({
            title: 'llmgenie: Sign in',
            prompt: 'Personal access token (kept in the OS keychain via SecretStorage, never in settings)',
            password: true,
            ignoreFocusOut: true,
          })
        )?.trim();
      }
      if (!token) {
        return;
      }
      await secrets.setTeamToken(token);
      await config.update('teamServerUrl', normalizeServerUrl(url), vscode.ConfigurationTarget.Global);
      void vscode.window.showInformationMessage(`llmgenie: signed in to ${normalizeServerUrl(url)}.`);
      await server.restart();
    }),
  );
  reg('llmgenie.ui.signOut', () =>
    guarded('sign out', async () => {
      const url = vscode.workspace.getConfiguration('llmgenie').get<string>('teamServerUrl');
      const token = (await secrets.read()).teamToken;
      if (url && token) {
        await revokeToken(fetch as unknown as Fetch, url, token);
      }
      await secrets.clearTeamToken();
      void vscode.window.showInformationMessage('llmgenie: signed out of the team server.');
      await server.restart();
    }),
  );

  reg('llmgenie.ui.refreshTeamRuns', () => teamRuns.refresh());
  reg('llmgenie.ui.openTeamRun', (run) =>
    guarded('open run', async () => showJson(`team run ${(run as TeamRun).run_id}`, run)),
  );
  reg('llmgenie.ui.cancelTeamRun', (run) =>
    guarded('cancel run', async () => {
      const answer = await server.request<{ cancelled: boolean }>(Methods.runsCancel, { runId: (run as TeamRun).run_id });
      void vscode.window.showInformationMessage(
        answer.cancelled ? 'llmgenie: cancel requested; the run stops within seconds.' : 'llmgenie: the run had already ended.',
      );
      teamRuns.refresh();
    }),
  );

  reg('llmgenie.ui.setApiKey', () =>
    guarded('set API key', async () => {
      const key = await vscode.window.showInputBox({
        title: 'llmgenie: Set API Key',
        prompt: 'API key for the model provider (stored in the OS keychain via VS Code SecretStorage, never in settings.json)',
        password: true,
        ignoreFocusOut: true,
      });
      if (!key) {
        return;
      }
      await secrets.setApiKey(key.trim());
      void vscode.window.showInformationMessage('llmgenie: API key stored; restarting the server to use it.');
      await server.restart();
    }),
  );
  reg('llmgenie.ui.clearApiKey', () =>
    guarded('clear API key', async () => {
      await secrets.clearApiKey();
      await server.restart();
    }),
  );

  reg('llmgenie.ui.showLogs', () => server.log.show(true));
  reg('llmgenie.ui.restartServer', () => guarded('restart', () => server.restart()));
  reg('llmgenie.ui.repairServer', () =>
    guarded('repair', async () => {
      await server.stop();
      const removed = removeManagedEnvironment(context);
      void vscode.window.showInformationMessage(`llmgenie: reinstalling the server environment (${removed})…`);
      await server.restart(); // resolves the interpreter again: the managed one is installed afresh
    }),
  );
  reg('llmgenie.ui.clearChat', () => chat.clear());
  reg('llmgenie.ui.pickChatModel', () => chat.pickModel());
  // What the server offers (a running Ollama's model, if any), in the same picker as the
  // "Configure a model…" code action.
  reg('llmgenie.ui.configureModel', () =>
    guarded('configuring a model', async () => {
      const setup = await server.executeCommand<ModelSetup>(ServerCommands.configureModel, { quiet: true });
      await configureModel(setup);
    }),
  );
  reg('llmgenie.ui.gettingStarted', () =>
    vscode.commands.executeCommand(
      'workbench.action.openWalkthrough',
      walkthroughRef(String(context.extension.packageJSON.publisher), String(context.extension.packageJSON.name)),
      false,
    ),
  );
  reg('llmgenie.ui.inlineEdit', () => inlineEdit(chat));

  reg('llmgenie.ui.showStatus', async () => {
    const view = computeStatus(server.phase, server.status);
    const items: Array<vscode.QuickPickItem & { run?: string }> = view.tooltip
      .split('\n')
      .slice(1, -1)
      .map((line) => ({ label: line }));
    items.push(
      { label: '', kind: vscode.QuickPickItemKind.Separator },
      { label: '$(output) Show Logs', run: 'llmgenie.ui.showLogs' },
      { label: '$(pulse) Index Health', run: 'llmgenie.ui.indexHealth' },
      { label: '$(debug-restart) Restart Server', run: 'llmgenie.ui.restartServer' },
      { label: '$(gear) Settings', run: 'workbench.action.openSettings' },
    );
    if (server.status?.indexing.state === 'paused') {
      items.push({ label: '$(debug-start) Resume Indexing', run: 'llmgenie.ui.resumeIndexing' });
    } else if (server.status?.indexing.state === 'indexing') {
      items.push({ label: '$(debug-pause) Pause Indexing', run: 'llmgenie.ui.pauseIndexing' });
    }
    const pick = await vscode.window.showQuickPick(items, { title: 'llmgenie status' });
    if (pick?.run) {
      await vscode.commands.executeCommand(pick.run, ...(pick.run === 'workbench.action.openSettings' ? ['llmgenie'] : []));
    }
  });
}
