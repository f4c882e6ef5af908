/**
 * Wire types of the llmgenie language-server protocol (docs/protocol.md), as the extension
 * sees them. Plain data: no VS Code imports, so the webview and unit tests share them.
 * Names (methods, commands, crews) come from the generated catalog, never typed here.
 */
import { CREW_CATALOG, METHODS, SERVER_COMMANDS, type CrewInfo, type RunEventKind } from './generated/catalog';

export type { CrewInfo, RunEventKind };

/** LSP position/range (0-based lines, UTF-16 columns). */
export interface WirePosition {
  line: number;
  character: number;
}
export interface WireRange {
  start: WirePosition;
  end: WirePosition;
}

export type IndexingState = 'idle' | 'indexing' | 'paused';

export interface IndexingStatus {
  state: IndexingState;
  stage?: string;
  folder?: string;
  done: number;
  total: number;
}

/** llmgenie/status notification: pushed by the server whenever any of it changes. */
export interface ServerStatus {
  indexing: IndexingStatus;
  model: { configured: boolean; model?: string | null; fallbacks?: string[] };
  degraded: string[];
  remote?: {
    connected: boolean;
    url?: string | null;
    state?: 'off' | 'connecting' | 'connected' | 'signed_out' | 'unreachable';
    reason?: string | null;
  };
}

/** llmgenie/health response: the status plus each folder's index health. */
export interface ServerHealth extends ServerStatus {
  index: Record<string, unknown> | null;
  folders: Array<Record<string, unknown>>;
  embeddings: { provider?: string | null; status: string };
  version: string;
}

/** llmgenie/runEvent notification. */
export interface RunEventParams {
  runId: string;
  kind: RunEventKind;
  message: string;
  data?: Record<string, unknown>;
}

export interface ProposedEdit {
  path: string;
  old_text: string;
  new_text: string;
  description?: string;
}

export interface Finding {
  path: string;
  start_line: number;
  end_line: number;
  severity: 'error' | 'warning' | 'info' | 'hint';
  rule: string;
  message: string;
  fix?: string;
}

/** RunResult JSON (server/llmgenie/runs/models.py). */
export interface RunResult {
  message: string;
  edits: ProposedEdit[];
  findings: Finding[];
  model?: string | null;
  tokens?: number;
  cost_usd?: number;
}

export interface ChatTurn {
  role: 'user' | 'assistant';
  content: string;
}

/** llmgenie/chat request params and result. */
export interface ChatParams {
  prompt: string;
  uri?: string;
  range?: WireRange;
  history?: ChatTurn[];
  /** This turn's model (the chat's picker): tried first, then the configured chain. */
  model?: string;
}
export interface ChatResult {
  runId: string;
  text: string;
  model?: string | null;
  cancelled?: boolean;
}

/** Argument of the llmgenie.runCrew command. */
export interface RunCrewArgs {
  crew: string;
  uri?: string;
  range?: WireRange;
  diagnostic?: unknown;
  prompt?: string;
  /** true: run on the team server; false: here; absent: the server's team.crews setting. */
  remote?: boolean;
  /** The editor's W3C trace context: the run's spans join that trace (core/trace.ts). */
  traceparent?: string;
}

export interface SearchHitFile {
  path: string;
  uri: string;
  score: number;
}
export interface SearchHitChunk {
  path: string;
  uri: string;
  start_line: number;
  end_line: number;
  symbol?: string | null;
  score: number;
  text?: string | null;
}
export interface SearchResult {
  query: string;
  files: SearchHitFile[];
  chunks: SearchHitChunk[];
  degraded?: string[];
}

/** llmgenie/localize: the files and functions a task is about (contracts/localization.py). */
export interface LocationHit {
  path: string;
  uri: string;
  symbol?: string | null;
  kind?: string | null;
  start_line?: number | null;
  end_line?: number | null;
  score: number;
  reasons: Array<{ signal: string; detail?: string }>;
}
export interface LocalizationResult {
  query: string;
  source: 'model' | 'search';
  hits: LocationHit[];
  notes: string[];
  model?: string | null;
}

/** Names fixed by the protocol: generated from the server's llmgenie/contracts/ids.py. */
export const Methods = METHODS;
export const ServerCommands = SERVER_COMMANDS;

/** The crews a user can run from the palette, with what they do. */
export const CREWS: ReadonlyArray<CrewInfo> = CREW_CATALOG.filter((c) => c.palette);
