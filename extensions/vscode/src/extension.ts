/** Entry point: wires the language server, chat panel, status bar and commands together. */
import * as vscode from 'vscode';
import { ChatViewProvider } from './chat/chatViewProvider';
import { registerCommands } from './commands';
import { SecretStore } from './server/secrets';
import { ServerManager } from './server/serverManager';
import { StatusBar } from './statusBar';
import { TeamRunsView } from './team/teamRunsView';
import { shouldOpenWalkthrough } from './core/walkthrough';

let server: ServerManager | undefined;

/** Settings the server reads only at initialize: a change restarts it. */
const RESTART_SETTINGS = [
  'model', 'fallbacks', 'agentModels', 'apiBase', 'embeddings', 'ignore', 'maxFileBytes',
  'teamServerUrl', 'pythonPath', 'serverPackage',
].map((s) => `llmgenie.${s}`);

export async function activate(context: vscode.ExtensionContext): Promise<void> {
  const log = vscode.window.createOutputChannel('llmgenie', { log: true });
  const secrets = new SecretStore(context.secrets);
  server = new ServerManager(context, log, secrets);
  const chat = new ChatViewProvider(context, server);
  const status = new StatusBar(server);
  const teamRuns = new TeamRunsView(server);
  teamRuns.view = vscode.window.createTreeView(TeamRunsView.viewId, { treeDataProvider: teamRuns });
  context.subscriptions.push(
    log,
    server,
    chat,
    status,
    teamRuns,
    teamRuns.view,
    vscode.window.registerWebviewViewProvider(ChatViewProvider.viewId, chat, { webviewOptions: { retainContextWhenHidden: true } }),
  );
  registerCommands(context, server, chat, secrets, teamRuns);
  openWalkthroughOnFirstRun(context, server);

  let restartTimer: NodeJS.Timeout | undefined;
  context.subscriptions.push(
    vscode.workspace.onDidChangeConfiguration((e) => {
      if (RESTART_SETTINGS.some((s) => e.affectsConfiguration(s))) {
        clearTimeout(restartTimer);
        restartTimer = setTimeout(() => {
          log.appendLine('[client] llmgenie settings changed: restarting the server');
          void server?.restart();
        }, 500);
      }
    }),
  );
  log.appendLine(`[client] llmgenie ${String(context.extension.packageJSON.version)} activating (${vscode.env.appName})`);
  await server.start();
}

const WELCOMED_KEY = 'llmgenie.walkthroughShown';

/** The first time the server says no model is configured, the walkthrough opens (once). */
function openWalkthroughOnFirstRun(context: vscode.ExtensionContext, manager: ServerManager): void {
  const listener = manager.onStatus((status) => {
    if (!shouldOpenWalkthrough(context.globalState.get<boolean>(WELCOMED_KEY, false), status)) {
      return;
    }
    listener.dispose();
    void context.globalState.update(WELCOMED_KEY, true);
    void vscode.commands.executeCommand('llmgenie.ui.gettingStarted');
  });
  context.subscriptions.push(listener);
}

export async function deactivate(): Promise<void> {
  await server?.stop();
}
