/**
 * Owns the language client: picks the interpreter, starts `python -m llmgenie serve --stdio`,
 * restarts it with backoff when it crashes (and says so), routes llmgenie/* notifications to
 * listeners, and makes agent edits reviewable before they are applied.
 */
import * as vscode from 'vscode';
import {
  CloseAction,
  ErrorAction,
  LanguageClient,
  State,
  type CancellationToken,
  type LanguageClientOptions,
  type ServerOptions,
} from 'vscode-languageclient/node';
import { DEFAULT_BACKOFF, RestartBackoff, formatDelay } from '../core/backoff';
import { buildInitializationOptions, redactOptions, type ExtensionSettings } from '../core/initOptions';
import { serverArgs } from '../core/interpreter';
import { Methods, ServerCommands, type RunCrewArgs, type RunEventParams, type ServerStatus } from '../core/protocol';
import { traceIdOf, withTrace } from '../core/trace';
import { describeEdit, makeReviewable, withoutConfirmation, type LspWorkspaceEdit } from '../core/reviewableEdit';
import type { ClientPhase } from '../core/statusText';
import { InterpreterError, resolveInterpreter } from './pythonResolver';
import { SecretStore } from './secrets';
import type { ModelSetup } from '../core/modelSetup';
import { configureModel } from './modelSetup';

export interface RunStarted {
  runId: string;
  crew: string;
  uri?: string;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export function readSettings(): ExtensionSettings {
  const c = vscode.workspace.getConfiguration('llmgenie');
  return {
    model: c.get<string>('model'),
    fallbacks: c.get<string[]>('fallbacks'),
    agentModels: c.get<Record<string, string>>('agentModels'),
    apiBase: c.get<string>('apiBase'),
    embeddings: c.get<string>('embeddings'),
    ignore: c.get<string[]>('ignore'),
    maxFileBytes: c.get<number | null>('maxFileBytes'),
    teamServerUrl: c.get<string>('teamServerUrl'),
  };
}

export class ServerManager implements vscode.Disposable {
  private client: LanguageClient | undefined;
  private readonly backoff = new RestartBackoff(DEFAULT_BACKOFF);
  private stopping = false;
  private lastStatus: ServerStatus | undefined;
  private _phase: ClientPhase = { phase: 'starting' };
  private readonly disposables: vscode.Disposable[] = [];

  private readonly phaseEmitter = new vscode.EventEmitter<ClientPhase>();
  private readonly statusEmitter = new vscode.EventEmitter<ServerStatus>();
  private readonly runEventEmitter = new vscode.EventEmitter<RunEventParams>();
  private readonly runStartedEmitter = new vscode.EventEmitter<RunStarted>();
  readonly onPhase = this.phaseEmitter.event;
  readonly onStatus = this.statusEmitter.event;
  readonly onRunEvent = this.runEventEmitter.event;
  readonly onRunStarted = this.runStartedEmitter.event;

  constructor(
    private readonly context: vscode.ExtensionContext,
    readonly log: vscode.LogOutputChannel,
    private readonly secrets: SecretStore,
  ) {
    this.disposables.push(this.phaseEmitter, this.statusEmitter, this.runEventEmitter, this.runStartedEmitter);
  }

  get phase(): ClientPhase {
    return this._phase;
  }
  get status(): ServerStatus | undefined {
    return this.lastStatus;
  }
  get running(): boolean {
    return this.client?.state === State.Running;
  }

  private setPhase(phase: ClientPhase): void {
    this._phase = phase;
    this.phaseEmitter.fire(phase);
  }

  async start(): Promise<void> {
    this.stopping = false;
    this.setPhase({ phase: 'starting' });
    let python: string;
    try {
      const resolved = await resolveInterpreter(this.context, this.log, () => this.setPhase({ phase: 'installing' }));
      python = resolved.python;
      this.log.appendLine(`[client] interpreter: ${python} (from ${resolved.source})`);
    } catch (err) {
      const message = err instanceof InterpreterError ? err.message : `Could not prepare the language server: ${String(err)}`;
      this.log.appendLine(`[client] ${message}`);
      this.setPhase({ phase: 'stopped', error: message });
      void this.showError(message);
      return;
    }

    this.setPhase({ phase: 'starting' });
    const initializationOptions = buildInitializationOptions(readSettings(), await this.secrets.read(), vscode.workspace.isTrusted);
    this.log.appendLine(`[client] initializationOptions: ${JSON.stringify(redactOptions(initializationOptions))}`);
    const serverOptions: ServerOptions = {
      command: python,
      args: serverArgs(),
      options: { env: { ...process.env, PYTHONUNBUFFERED: '1' } },
    };
    const clientOptions: LanguageClientOptions = {
      documentSelector: [{ scheme: 'file' }, { scheme: 'untitled' }],
      outputChannel: this.log,
      initializationOptions,
      errorHandler: {
        error: (_error, _message, count) => ({ action: (count ?? 0) <= 3 ? ErrorAction.Continue : ErrorAction.Shutdown, handled: true }),
        closed: () => this.onClosed(),
      },
      middleware: {
        executeCommand: async (command, args, next) => {
          if (command === ServerCommands.configureModel) {
            // Our own picker instead of the server's message (which other editors show).
            const setup = (await next(command, [{ quiet: true }])) as ModelSetup;
            await configureModel(setup);
            return setup;
          }
          // A run (a code action's, a palette command's) carries the editor's trace context.
          const isRun = command === ServerCommands.runCrew && args[0] !== undefined;
          const sent = isRun ? [withTrace(args[0] as RunCrewArgs), ...args.slice(1)] : args;
          const result: unknown = await next(command, sent);
          if (command === ServerCommands.runCrew) {
            this.noteRunStarted(sent[0] as RunCrewArgs | undefined, result);
          }
          return result;
        },
        workspace: {
          handleApplyEdit: async (params, next) => {
            const preview = vscode.workspace.getConfiguration('llmgenie').get<boolean>('previewEdits', true);
            const edit = params.edit as LspWorkspaceEdit;
            this.log.appendLine(`[client] server proposes ${describeEdit(edit)}${params.label ? ` (${params.label})` : ''}`);
            if (!preview) {
              const direct = withoutConfirmation(edit);
              return next({ ...params, edit: direct as typeof params.edit }, undefined as unknown as CancellationToken);
            }
            const reviewable = makeReviewable(edit, params.label ?? 'llmgenie: proposed edit');
            return next({ ...params, edit: reviewable as typeof params.edit, metadata: { isRefactoring: true } }, undefined as unknown as CancellationToken);
          },
        },
      },
    };

    const client = new LanguageClient('llmgenie', 'llmgenie', serverOptions, clientOptions);
    this.client = client;
    client.onDidChangeState((e) => {
      if (e.newState === State.Running) {
        this.backoff.started(Date.now());
        this.setPhase({ phase: 'running' });
      }
    });
    client.onNotification(Methods.status, (status: ServerStatus) => this.setStatus(status));
    client.onNotification(Methods.runEvent, (event: RunEventParams) => this.runEventEmitter.fire(event));
    try {
      await client.start();
    } catch (err) {
      // a crash during start goes through onClosed (restart with backoff); log the cause
      this.log.appendLine(`[client] start failed: ${String(err)}`);
    }
  }

  private noteRunStarted(args: RunCrewArgs | undefined, result: unknown): void {
    const runId = (result as { runId?: unknown } | undefined)?.runId;
    if (typeof runId === 'string' && args) {
      const trace = traceIdOf(args.traceparent);
      this.log.appendLine(`[client] run ${runId} (${args.crew})${trace ? ` trace ${trace}` : ''}`);
      this.runStartedEmitter.fire({ runId, crew: args.crew, uri: args.uri });
    }
  }

  private async onClosed(): Promise<{ action: CloseAction; handled: boolean; message?: string }> {
    if (this.stopping) {
      return { action: CloseAction.DoNotRestart, handled: true };
    }
    const decision = this.backoff.crashed(Date.now());
    if (!decision.restart) {
      const message = `The llmgenie language server stopped ${decision.crashes} times in a few minutes and will not be restarted.`;
      this.setPhase({ phase: 'stopped', error: message });
      void this.showError(message);
      return { action: CloseAction.DoNotRestart, handled: true, message };
    }
    const message = `llmgenie: the language server stopped unexpectedly; restarting in ${formatDelay(decision.delayMs)} (attempt ${decision.attempt}).`;
    this.log.appendLine(`[client] ${message}`);
    this.setPhase({ phase: 'restarting', delayMs: decision.delayMs, attempt: decision.attempt });
    void vscode.window.showWarningMessage(message, 'Show Logs').then((pick) => pick && this.log.show(true));
    await sleep(decision.delayMs);
    this.setPhase({ phase: 'starting' });
    return { action: CloseAction.Restart, handled: true, message: 'llmgenie: restarting the language server.' };
  }

  private async showError(message: string): Promise<void> {
    const pick = await vscode.window.showErrorMessage(message, 'Show Logs', 'Restart Server', 'Open Settings');
    if (pick === 'Show Logs') {
      this.log.show(true);
    } else if (pick === 'Restart Server') {
      await this.restart();
    } else if (pick === 'Open Settings') {
      await vscode.commands.executeCommand('workbench.action.openSettings', 'llmgenie');
    }
  }

  /** llmgenie/status is pushed on every change (live counts while indexing): no polling. */
  private setStatus(status: ServerStatus): void {
    this.lastStatus = status;
    this.statusEmitter.fire(status);
  }

  async stop(): Promise<void> {
    this.stopping = true;
    const client = this.client;
    this.client = undefined;
    if (client && client.state !== State.Stopped) {
      try {
        await client.stop(5000);
      } catch (err) {
        this.log.appendLine(`[client] stop: ${String(err)}`);
      }
    }
    try {
      await client?.dispose();
    } catch {
      // already stopped
    }
  }

  async restart(): Promise<void> {
    this.log.appendLine('[client] restarting the language server');
    await this.stop();
    this.backoff.reset();
    this.lastStatus = undefined;
    await this.start();
  }

  private requireClient(): LanguageClient {
    if (!this.client || this.client.state !== State.Running) {
      throw new Error('The llmgenie language server is not running (see "llmgenie: Show Logs").');
    }
    return this.client;
  }

  request<R>(method: string, params: unknown, token?: vscode.CancellationToken): Promise<R> {
    const client = this.requireClient();
    return token ? client.sendRequest<R>(method, params, token) : client.sendRequest<R>(method, params);
  }

  /** workspace/executeCommand on the server with one argument object (the protocol's convention). */
  async executeCommand<R>(command: string, arg: object = {}): Promise<R> {
    const client = this.requireClient();
    const sent = command === ServerCommands.runCrew ? withTrace(arg as RunCrewArgs) : arg;
    const result = (await client.sendRequest('workspace/executeCommand', { command, arguments: [sent] })) as R;
    if (command === ServerCommands.runCrew) {
      this.noteRunStarted(sent as RunCrewArgs, result);
    }
    return result;
  }

  /** Converts a wire URI/range to VS Code types. */
  get converter(): LanguageClient['protocol2CodeConverter'] | undefined {
    return this.client?.protocol2CodeConverter;
  }
  get code2Protocol(): LanguageClient['code2ProtocolConverter'] | undefined {
    return this.client?.code2ProtocolConverter;
  }

  dispose(): void {
    void this.stop();
    for (const d of this.disposables) {
      d.dispose();
    }
  }
}
