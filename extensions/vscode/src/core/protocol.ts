/**
 * Wire types of the llmgenie language-server protocol (docs/protocol.md), as the extension
 * sees them. Plain data: no VS Code imports, so the webview and unit tests share them.
 */

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
  done: number;
  total: number;
}

/** llmgenie/status notification: sent by the server on every state change. */
export interface ServerStatus {
  indexing: IndexingStatus;
  model: { configured: boolean; model?: string | null };
  degraded: string[];
  remote?: { connected: boolean; url?: string | null };
}

/** llmgenie/health response. */
export interface ServerHealth {
  index: Record<string, unknown>;
  indexing: IndexingStatus;
  model: { configured: boolean; model?: string | null; fallbacks: string[] };
  embeddings: { provider?: string | null; status: string };
  degraded: string[];
  version: string;
}

export type RunEventKind = 'status' | 'delta' | 'tool' | 'progress' | 'result' | 'error';

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
}

export interface SearchHitFile {
  path: string;
  score: number;
}
export interface SearchHitChunk {
  path: string;
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

/** Names fixed by the protocol. */
export const Methods = {
  chat: 'llmgenie/chat',
  search: 'llmgenie/search',
  context: 'llmgenie/context',
  runsList: 'llmgenie/runs/list',
  runsStatus: 'llmgenie/runs/status',
  runsCancel: 'llmgenie/runs/cancel',
  health: 'llmgenie/health',
  runEvent: 'llmgenie/runEvent',
  status: 'llmgenie/status',
} as const;

export const ServerCommands = {
  chat: 'llmgenie.chat',
  runCrew: 'llmgenie.runCrew',
  search: 'llmgenie.search',
  repoMap: 'llmgenie.repoMap',
  reindex: 'llmgenie.reindex',
  pauseIndexing: 'llmgenie.pauseIndexing',
  resumeIndexing: 'llmgenie.resumeIndexing',
  cancelRun: 'llmgenie.cancelRun',
  indexHealth: 'llmgenie.indexHealth',
} as const;

/** The crews a user can run from the palette, with what they do. */
export const CREWS: ReadonlyArray<{ crew: string; label: string; detail: string; needsPrompt?: boolean }> = [
  { crew: 'explain', label: 'Explain', detail: 'Explain the selected code or the current file' },
  { crew: 'document', label: 'Document', detail: 'Write docstrings/comments for the selection' },
  { crew: 'tests', label: 'Write tests', detail: 'Write unit tests for the selection' },
  { crew: 'refactor', label: 'Refactor', detail: 'Propose a refactoring of the selection' },
  { crew: 'security', label: 'Security review', detail: 'Look for vulnerabilities (findings in Problems)' },
  { crew: 'performance', label: 'Performance review', detail: 'Look for performance problems' },
  { crew: 'devops', label: 'Containerize / add CI', detail: 'Dockerfile, CI config, deployment' },
  { crew: 'review', label: 'Ask the coordinator', detail: 'Free-form request to the whole crew', needsPrompt: true },
];
