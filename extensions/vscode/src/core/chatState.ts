/**
 * The chat panel's state as a pure reducer over user actions and the server's run events.
 * The extension host owns the state (and persists it per workspace); the webview only
 * renders snapshots. Runs started elsewhere (a code action, the palette) show up here too.
 */
import type { FeedbackVerdict } from './generated/catalog';
import type { ChatResult, ChatTurn, RunEventParams, RunResult } from './protocol';

export type MessageStatus = 'pending' | 'streaming' | 'done' | 'cancelled' | 'error';

/** A file or symbol the run used as context, shown as a chip under the answer. */
export interface ContextChip {
  label: string;
  path: string;
  /** 1-based, inclusive. */
  startLine?: number;
  endLine?: number;
  symbol?: string;
}

export interface ChatMessage {
  id: string;
  role: 'user' | 'assistant';
  text: string;
  runId?: string;
  /** For runs: "Explain · app.py:3". */
  title?: string;
  status: MessageStatus;
  /** Latest status/tool line while the run works. */
  activity?: string;
  error?: string;
  model?: string;
  context: ContextChip[];
  edits?: number;
  findings?: number;
  /** Where the question was asked (for Insert/Apply). */
  uri?: string;
  /** The user's verdict on this answer (the thumbs), once the server recorded it. */
  feedback?: FeedbackVerdict;
}

export interface ChatState {
  messages: ChatMessage[];
  /** The assistant message of a chat request whose runId is not known yet. */
  pendingId?: string;
}

export type ChatAction =
  | { type: 'userAsked'; userId: string; assistantId: string; prompt: string; title?: string; uri?: string; context?: ContextChip[] }
  | { type: 'runStarted'; runId: string; assistantId?: string; title?: string; uri?: string; newId?: string }
  | { type: 'runEvent'; event: RunEventParams; newId?: string }
  | { type: 'chatCompleted'; assistantId: string; result: ChatResult }
  | { type: 'chatFailed'; assistantId: string; error: string; cancelled?: boolean }
  | { type: 'feedbackRecorded'; id: string; verdict: FeedbackVerdict }
  | { type: 'clear' };

export const MAX_MESSAGES = 200;
export const MAX_HISTORY_TURNS = 10;

export const emptyChat = (): ChatState => ({ messages: [] });

const isActive = (m: ChatMessage): boolean => m.status === 'pending' || m.status === 'streaming';

function update(state: ChatState, id: string, f: (m: ChatMessage) => ChatMessage): ChatState {
  return { ...state, messages: state.messages.map((m) => (m.id === id ? f(m) : m)) };
}

function trim(messages: ChatMessage[]): ChatMessage[] {
  return messages.length > MAX_MESSAGES ? messages.slice(messages.length - MAX_MESSAGES) : messages;
}

function crewTitle(crew: unknown): string | undefined {
  if (typeof crew !== 'string' || !crew) {
    return undefined;
  }
  return crew.charAt(0).toUpperCase() + crew.slice(1);
}

function asNumber(v: unknown): number | undefined {
  return typeof v === 'number' && Number.isFinite(v) ? v : undefined;
}

function baseName(path: string): string {
  const parts = path.split(/[\\/]/);
  return parts[parts.length - 1] || path;
}

function chipFrom(item: unknown, symbolOnly = false): ContextChip | undefined {
  if (typeof item === 'string') {
    return symbolOnly ? { label: item, path: '', symbol: item } : { label: baseName(item), path: item };
  }
  if (typeof item !== 'object' || item === null) {
    return undefined;
  }
  const o = item as Record<string, unknown>;
  const path = typeof o.path === 'string' ? o.path : typeof o.uri === 'string' ? o.uri : '';
  const symbol = typeof o.symbol === 'string' ? o.symbol : typeof o.name === 'string' ? o.name : undefined;
  if (!path && !symbol) {
    return undefined;
  }
  const startLine = asNumber(o.start_line ?? o.startLine ?? o.line);
  const endLine = asNumber(o.end_line ?? o.endLine);
  let label = symbol ?? baseName(path);
  if (symbol && path) {
    label = `${symbol} · ${baseName(path)}`;
  } else if (!symbol && startLine !== undefined) {
    label = `${baseName(path)}:${startLine}${endLine !== undefined && endLine !== startLine ? `-${endLine}` : ''}`;
  }
  return { label, path, startLine, endLine, symbol };
}

/** Files/symbols a run event says were used: accepts `context`, `files`, `symbols`, `sources`, `chunks`. */
export function extractContext(data: Record<string, unknown> | undefined): ContextChip[] {
  if (!data) {
    return [];
  }
  const chips: ContextChip[] = [];
  for (const key of ['context', 'files', 'sources', 'chunks', 'symbols']) {
    const value = data[key];
    if (Array.isArray(value)) {
      for (const item of value) {
        const chip = chipFrom(item, key === 'symbols');
        if (chip) {
          chips.push(chip);
        }
      }
    }
  }
  return chips;
}

function chipKey(c: ContextChip): string {
  return `${c.path}|${c.symbol ?? ''}|${c.startLine ?? ''}|${c.endLine ?? ''}`;
}

function mergeChips(a: ContextChip[], b: ContextChip[]): ContextChip[] {
  if (b.length === 0) {
    return a;
  }
  const seen = new Set(a.map(chipKey));
  const out = [...a];
  for (const c of b) {
    if (!seen.has(chipKey(c))) {
      seen.add(chipKey(c));
      out.push(c);
    }
  }
  return out;
}

function applyEvent(m: ChatMessage, ev: RunEventParams): ChatMessage {
  const context = mergeChips(m.context, extractContext(ev.data));
  switch (ev.kind) {
    case 'delta':
      return { ...m, context, text: m.text + ev.message, status: 'streaming' };
    case 'status':
    case 'tool':
    case 'progress':
      return { ...m, context, activity: ev.message || m.activity, status: m.status === 'pending' ? 'streaming' : m.status };
    case 'result': {
      const result = (ev.data?.result ?? undefined) as RunResult | undefined;
      const finalText = result?.message ?? '';
      const cancelled = ev.data?.cancelled === true || ev.data?.status === 'cancelled';
      return {
        ...m,
        context,
        // the result is authoritative; the streamed text is kept if the result has none
        text: finalText.trim() ? finalText : m.text,
        status: cancelled ? 'cancelled' : 'done',
        activity: undefined,
        model: result?.model ?? m.model,
        edits: result?.edits?.length ?? m.edits,
        findings: result?.findings?.length ?? m.findings,
      };
    }
    case 'error': {
      const cancelled = ev.data?.cancelled === true || /cancel/i.test(ev.message);
      return { ...m, context, status: cancelled ? 'cancelled' : 'error', error: cancelled ? undefined : ev.message, activity: undefined };
    }
  }
}

export function chatReducer(state: ChatState, action: ChatAction): ChatState {
  switch (action.type) {
    case 'userAsked': {
      const user: ChatMessage = { id: action.userId, role: 'user', text: action.prompt, status: 'done', context: action.context ?? [], uri: action.uri };
      const assistant: ChatMessage = {
        id: action.assistantId,
        role: 'assistant',
        text: '',
        status: 'pending',
        context: [],
        title: action.title,
        uri: action.uri,
      };
      return { messages: trim([...state.messages, user, assistant]), pendingId: action.assistantId };
    }
    case 'runStarted': {
      const existing = state.messages.find((m) => m.runId === action.runId);
      if (existing) {
        return action.title && !existing.title ? update(state, existing.id, (m) => ({ ...m, title: action.title })) : state;
      }
      if (action.assistantId) {
        const next = update(state, action.assistantId, (m) => ({ ...m, runId: action.runId, title: action.title ?? m.title }));
        return next.pendingId === action.assistantId ? { ...next, pendingId: undefined } : next;
      }
      const msg: ChatMessage = {
        id: action.newId ?? `run-${action.runId}`,
        role: 'assistant',
        text: '',
        runId: action.runId,
        title: action.title,
        status: 'pending',
        context: [],
        uri: action.uri,
      };
      return { ...state, messages: trim([...state.messages, msg]) };
    }
    case 'runEvent': {
      const ev = action.event;
      let target = state.messages.find((m) => m.runId === ev.runId);
      let next = state;
      if (!target) {
        const pending = state.pendingId ? state.messages.find((m) => m.id === state.pendingId && !m.runId) : undefined;
        const crew = ev.data?.crew;
        if (pending && (crew === undefined || crew === 'chat')) {
          // the first event of an unknown run while a chat request waits belongs to it
          next = { ...update(state, pending.id, (m) => ({ ...m, runId: ev.runId })), pendingId: undefined };
          target = pending;
        } else {
          target = {
            id: action.newId ?? `run-${ev.runId}`,
            role: 'assistant',
            text: '',
            runId: ev.runId,
            title: crewTitle(crew),
            status: 'pending',
            context: [],
          };
          next = { ...state, messages: trim([...state.messages, target]) };
        }
      }
      const id = target.id;
      return update(next, id, (m) => applyEvent(m, ev));
    }
    case 'chatCompleted': {
      const r = action.result;
      const next = update(state, action.assistantId, (m) => ({
        ...m,
        runId: m.runId ?? r.runId,
        text: r.text && r.text.trim() ? r.text : m.text,
        model: r.model ?? m.model,
        status: r.cancelled ? 'cancelled' : m.status === 'error' ? 'error' : 'done',
        activity: undefined,
      }));
      return next.pendingId === action.assistantId ? { ...next, pendingId: undefined } : next;
    }
    case 'chatFailed': {
      const next = update(state, action.assistantId, (m) =>
        m.status === 'done'
          ? m
          : {
              ...m,
              status: action.cancelled ? 'cancelled' : 'error',
              error: action.cancelled ? undefined : action.error,
              activity: undefined,
            },
      );
      return next.pendingId === action.assistantId ? { ...next, pendingId: undefined } : next;
    }
    case 'feedbackRecorded':
      return update(state, action.id, (m) => ({ ...m, feedback: action.verdict }));
    case 'clear':
      return emptyChat();
  }
}

/** The run whose answer the thumbs rate: a finished assistant answer of a run, not yet rated. */
export function feedbackTarget(state: ChatState, id: string): string | undefined {
  const m = state.messages.find((x) => x.id === id);
  if (!m || m.role !== 'assistant' || m.status !== 'done' || !m.runId || m.feedback) {
    return undefined;
  }
  return m.runId;
}

/** The conversation so far, for llmgenie/chat's `history` (finished turns only, newest last). */
export function historyFor(state: ChatState, maxTurns = MAX_HISTORY_TURNS): ChatTurn[] {
  const turns = state.messages
    .filter((m) => m.status === 'done' && m.text.trim() !== '' && !m.title)
    .map((m): ChatTurn => ({ role: m.role, content: m.text }));
  return turns.slice(Math.max(0, turns.length - maxTurns));
}

/** The run a stop button stops: the newest active one. */
export function activeRun(state: ChatState): ChatMessage | undefined {
  for (let i = state.messages.length - 1; i >= 0; i--) {
    const m = state.messages[i];
    if (m && m.role === 'assistant' && isActive(m)) {
      return m;
    }
  }
  return undefined;
}

/** What is persisted per workspace: finished messages; unfinished ones are marked interrupted. */
export function toPersisted(state: ChatState): ChatState {
  return {
    messages: state.messages.map((m) =>
      isActive(m) ? { ...m, status: 'cancelled' as const, activity: undefined, error: undefined } : { ...m, activity: undefined },
    ),
  };
}

/** Restores persisted state defensively (older or corrupt data gives an empty chat). */
export function fromPersisted(value: unknown): ChatState {
  if (typeof value !== 'object' || value === null || !Array.isArray((value as ChatState).messages)) {
    return emptyChat();
  }
  const messages = (value as ChatState).messages.filter(
    (m): m is ChatMessage =>
      typeof m === 'object' && m !== null && typeof m.id === 'string' && typeof m.text === 'string' && (m.role === 'user' || m.role === 'assistant'),
  );
  return { messages: trim(messages.map((m) => ({ ...m, context: Array.isArray(m.context) ? m.context : [] }))) };
}
