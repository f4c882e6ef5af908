/**
 * What the status bar item says: the client's lifecycle (starting, installing, restarting),
 * then indexing progress, degraded states, the active model and the team-server connection.
 */
import type { ServerStatus } from './protocol';

export type ClientPhase =
  | { phase: 'starting' }
  | { phase: 'installing'; detail?: string }
  | { phase: 'running' }
  | { phase: 'restarting'; delayMs: number; attempt: number }
  | { phase: 'stopped'; error?: string };

export type Severity = 'normal' | 'warning' | 'error';

export interface StatusView {
  text: string;
  tooltip: string;
  severity: Severity;
}

function percent(done: number, total: number): string {
  return total > 0 ? `${Math.min(100, Math.floor((done / total) * 100))}%` : '';
}

/** Short model name for the status bar: "openai/gpt-4o-mini" -> "gpt-4o-mini". */
export function shortModel(model: string): string {
  const slash = model.lastIndexOf('/');
  return slash >= 0 ? model.slice(slash + 1) : model;
}

export function computeStatus(client: ClientPhase, status: ServerStatus | undefined): StatusView {
  switch (client.phase) {
    case 'starting':
      return { text: '$(loading~spin) llmgenie', tooltip: 'llmgenie: starting the language server…', severity: 'normal' };
    case 'installing':
      return {
        text: '$(loading~spin) llmgenie: installing',
        tooltip: `llmgenie: installing the language server${client.detail ? ` (${client.detail})` : ''}…`,
        severity: 'normal',
      };
    case 'restarting':
      return {
        text: '$(debug-restart) llmgenie: restarting',
        tooltip: `llmgenie: the language server stopped; restart ${client.attempt} in ${Math.round(client.delayMs / 1000)} s. Click for details.`,
        severity: 'warning',
      };
    case 'stopped':
      return {
        text: '$(error) llmgenie: stopped',
        tooltip: `llmgenie: the language server is not running${client.error ? `: ${client.error}` : ''}. Click for details.`,
        severity: 'error',
      };
    case 'running':
      break;
  }

  if (!status) {
    return { text: '$(loading~spin) llmgenie', tooltip: 'llmgenie: waiting for the server…', severity: 'normal' };
  }

  const parts: string[] = [];
  const tips: string[] = [];
  let severity: Severity = 'normal';
  const { indexing, model, degraded, remote } = status;

  if (indexing.state === 'indexing') {
    const pct = percent(indexing.done, indexing.total);
    parts.push(`$(sync~spin) indexing${indexing.total > 0 ? ` ${indexing.done}/${indexing.total}` : ''}`);
    tips.push(`Indexing: ${indexing.done} of ${indexing.total} files${pct ? ` (${pct})` : ''}`);
  } else if (indexing.state === 'paused') {
    parts.push('$(debug-pause) indexing paused');
    tips.push(`Indexing paused at ${indexing.done} of ${indexing.total} files`);
  } else {
    parts.push('$(check)');
    tips.push(`Index up to date${indexing.total > 0 ? ` (${indexing.total} files)` : ''}`);
  }

  if (model.configured && model.model) {
    parts.push(shortModel(model.model));
    tips.push(`Model: ${model.model}`);
  } else {
    parts.push('$(warning) no model');
    tips.push('No model configured: set llmgenie.model (agents and chat are unavailable)');
    severity = 'warning';
  }

  const otherDegraded = degraded.filter((d) => !/model/i.test(d) || model.configured);
  if (otherDegraded.some((d) => /embedding/i.test(d))) {
    parts.push('$(warning) no embeddings');
  }
  for (const d of otherDegraded) {
    tips.push(`Degraded: ${d}`);
  }
  if (otherDegraded.length > 0) {
    severity = 'warning';
  }

  if (remote?.url) {
    const state = remote.state ?? (remote.connected ? 'connected' : 'off');
    const why = remote.reason ? ` (${remote.reason})` : '';
    if (state === 'connected') {
      parts.push('$(cloud)');
      tips.push(`Team server ${remote.url}: connected`);
    } else if (state === 'signed_out') {
      parts.push('$(cloud-offline) signed out');
      tips.push(`Team server ${remote.url}: signed out${why}; run "llmgenie: Sign in to Team Server"`);
      severity = 'warning';
    } else if (state === 'unreachable') {
      parts.push('$(cloud-offline)');
      tips.push(`Team server ${remote.url}: unreachable${why}; runs go on locally`);
      severity = 'warning';
    } else if (state === 'connecting') {
      parts.push('$(sync~spin)$(cloud)');
      tips.push(`Team server ${remote.url}: connecting…`);
    } else {
      parts.push('$(cloud-offline)');
      tips.push(`Team server ${remote.url}: not connected`);
      severity = 'warning';
    }
  }

  return { text: `llmgenie ${parts.join(' ')}`, tooltip: `llmgenie\n${tips.join('\n')}\nClick for details.`, severity };
}
