/**
 * The "Team runs" view: the team server's runs (through the language server, which holds
 * the connection), refreshed when the status or a run changes; open a run's record, cancel
 * a live one.
 */
import * as vscode from 'vscode';
import { Methods } from '../core/protocol';
import type { ServerManager } from '../server/serverManager';

export interface TeamRun {
  run_id: string;
  crew: string;
  status: string;
  created_at: number;
  request: { path?: string | null; prompt?: string };
  error?: string | null;
  trace_id?: string | null;
}

const LIVE = new Set(['queued', 'running']);
const ICONS: Record<string, string> = {
  queued: 'clock',
  running: 'sync~spin',
  succeeded: 'pass',
  failed: 'error',
  cancelled: 'circle-slash',
};

/** The tooltip: status (or error), the run id and, when traced, its OpenTelemetry trace id. */
export function runTooltip(run: TeamRun): string {
  const head = run.error ? `${run.status}: ${run.error}` : `${run.crew} ${run.status} (${run.run_id})`;
  return run.trace_id ? `${head}\ntrace ${run.trace_id}` : head;
}

/** How long ago, in words ("just now", "5 min ago", "3 h ago", "2 d ago"). */
export function ago(epochSeconds: number, now = Date.now() / 1000): string {
  const s = Math.max(0, now - epochSeconds);
  if (s < 60) return 'just now';
  if (s < 3600) return `${Math.floor(s / 60)} min ago`;
  if (s < 86400) return `${Math.floor(s / 3600)} h ago`;
  return `${Math.floor(s / 86400)} d ago`;
}

export class TeamRunsView implements vscode.TreeDataProvider<TeamRun>, vscode.Disposable {
  static readonly viewId = 'llmgenie.teamRuns';
  private readonly changed = new vscode.EventEmitter<void>();
  readonly onDidChangeTreeData = this.changed.event;
  private readonly disposables: vscode.Disposable[] = [];
  /** The tree view showing this provider (its message explains an empty list). */
  view: vscode.TreeView<TeamRun> | undefined;

  constructor(private readonly server: ServerManager) {
    this.disposables.push(
      server.onStatus(() => this.refresh()),
      server.onRunEvent((e) => {
        if (e.kind === 'result' || e.kind === 'error') this.refresh();
      }),
    );
  }

  refresh(): void {
    this.changed.fire();
  }

  getTreeItem(run: TeamRun): vscode.TreeItem {
    const where = run.request.path ? ` · ${run.request.path}` : '';
    const item = new vscode.TreeItem(`${run.crew}${where}`);
    item.description = `${run.status} · ${ago(run.created_at)}`;
    item.tooltip = runTooltip(run);
    item.iconPath = new vscode.ThemeIcon(ICONS[run.status] ?? 'circle-outline');
    item.contextValue = LIVE.has(run.status) ? 'teamRun.live' : 'teamRun.ended';
    item.command = { command: 'llmgenie.ui.openTeamRun', title: 'Open', arguments: [run] };
    return item;
  }

  async getChildren(): Promise<TeamRun[]> {
    const remote = this.server.status?.remote;
    if (!remote?.url) {
      return this.empty('No team server: set llmgenie.teamServerUrl, then sign in.');
    }
    if (remote.state === 'signed_out') {
      return this.empty('Signed out of the team server: run "llmgenie: Sign in to Team Server".');
    }
    try {
      const answer = await this.server.request<{ runs: TeamRun[] }>(Methods.teamRuns, { limit: 100 });
      this.setMessage(answer.runs.length ? undefined : 'No team runs yet.');
      return answer.runs;
    } catch (err) {
      return this.empty(`Team server unavailable: ${String(err)}`);
    }
  }

  private empty(message: string): TeamRun[] {
    this.setMessage(message);
    return [];
  }

  private setMessage(message: string | undefined): void {
    if (this.view) {
      this.view.message = message;
    }
  }

  dispose(): void {
    this.changed.dispose();
    for (const d of this.disposables) d.dispose();
  }
}
