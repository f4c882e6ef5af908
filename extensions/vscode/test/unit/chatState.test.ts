import { describe, expect, it } from 'vitest';
import {
  activeRun,
  chatReducer,
  emptyChat,
  extractContext,
  feedbackTarget,
  fromPersisted,
  historyFor,
  toPersisted,
  type ChatAction,
  type ChatState,
} from '../../src/core/chatState';
import type { RunEventParams } from '../../src/core/protocol';

const run = (actions: ChatAction[], start: ChatState = emptyChat()): ChatState => actions.reduce(chatReducer, start);
const ev = (runId: string, kind: RunEventParams['kind'], message = '', data?: Record<string, unknown>): ChatAction => ({
  type: 'runEvent',
  event: { runId, kind, message, data },
});

describe('chatReducer', () => {
  it('streams deltas into the pending chat answer and finishes with the result', () => {
    const s = run([
      { type: 'userAsked', userId: 'u1', assistantId: 'a1', prompt: 'What does main do?' },
      ev('r1', 'status', 'retrieving context', { crew: 'chat', files: ['src/app.py'] }),
      ev('r1', 'delta', 'It '),
      ev('r1', 'delta', 'prints.'),
    ]);
    const answer = s.messages[1];
    expect(answer).toMatchObject({ id: 'a1', runId: 'r1', text: 'It prints.', status: 'streaming', activity: 'retrieving context' });
    expect(answer?.context.map((c) => c.label)).toEqual(['app.py']);
    expect(activeRun(s)?.id).toBe('a1');

    const done = chatReducer(s, { type: 'chatCompleted', assistantId: 'a1', result: { runId: 'r1', text: 'It prints.', model: 'openai/scripted' } });
    expect(done.messages[1]).toMatchObject({ status: 'done', model: 'openai/scripted' });
    expect(done.pendingId).toBeUndefined();
    expect(activeRun(done)).toBeUndefined();
  });

  it('rates only a finished answer of a run, once', () => {
    const asked = run([
      { type: 'userAsked', userId: 'u1', assistantId: 'a1', prompt: 'What does main do?' },
      ev('r1', 'delta', 'It prints.'),
    ]);
    expect(feedbackTarget(asked, 'a1')).toBeUndefined(); // still streaming
    expect(feedbackTarget(asked, 'u1')).toBeUndefined(); // the user's own message
    const done = chatReducer(asked, { type: 'chatCompleted', assistantId: 'a1', result: { runId: 'r1', text: 'It prints.' } });
    expect(feedbackTarget(done, 'a1')).toBe('r1');
    const rated = chatReducer(done, { type: 'feedbackRecorded', id: 'a1', verdict: 'helpful' });
    expect(rated.messages[1]?.feedback).toBe('helpful');
    expect(feedbackTarget(rated, 'a1')).toBeUndefined(); // one verdict per answer
    expect(toPersisted(rated).messages[1]?.feedback).toBe('helpful'); // survives a reload
  });

  it("shows what the user attached (@-mentions) as chips on the user's message", () => {
    const chip = { label: 'billing.py', path: 'src/billing.py' };
    const s = run([{ type: 'userAsked', userId: 'u', assistantId: 'a', prompt: 'see @file:src/billing.py', context: [chip] }]);
    expect(s.messages[0]?.context).toEqual([chip]);
    expect(s.messages[1]?.context).toEqual([]);
  });

  it('shows runs started elsewhere (a code action) as their own message', () => {
    const s = run([
      ev('crew1', 'status', 'reading', { crew: 'explain' }),
      ev('crew1', 'delta', '`add` adds.'),
      ev('crew1', 'result', '', { result: { message: '`add` adds two numbers.', edits: [], findings: [], model: 'm' } }),
    ]);
    expect(s.messages).toHaveLength(1);
    expect(s.messages[0]).toMatchObject({ title: 'Explain', text: '`add` adds two numbers.', status: 'done', model: 'm', edits: 0 });
  });

  it('does not hand a crew run to a waiting chat request', () => {
    const s = run([
      { type: 'userAsked', userId: 'u', assistantId: 'a', prompt: 'hi' },
      ev('crew', 'delta', 'x', { crew: 'document' }),
    ]);
    expect(s.messages).toHaveLength(3);
    expect(s.messages[1]?.runId).toBeUndefined();
    expect(s.messages[2]).toMatchObject({ runId: 'crew', title: 'Document' });
  });

  it('titles a run when the command result arrives after its first events', () => {
    const s = run([ev('r', 'delta', 'a'), { type: 'runStarted', runId: 'r', title: 'Explain · app.py' }]);
    expect(s.messages).toHaveLength(1);
    expect(s.messages[0]?.title).toBe('Explain · app.py');
  });

  it('creates a message when a run is announced before any event', () => {
    const s = run([{ type: 'runStarted', runId: 'r', title: 'Document · a.py' }, ev('r', 'delta', 'doc')]);
    expect(s.messages).toHaveLength(1);
    expect(s.messages[0]).toMatchObject({ text: 'doc', title: 'Document · a.py', status: 'streaming' });
  });

  it('marks cancelled and failed runs', () => {
    const cancelled = run([
      { type: 'userAsked', userId: 'u', assistantId: 'a', prompt: 'slow' },
      ev('r', 'delta', 'partial'),
      { type: 'chatCompleted', assistantId: 'a', result: { runId: 'r', text: 'partial', cancelled: true } },
    ]);
    expect(cancelled.messages[1]).toMatchObject({ status: 'cancelled', text: 'partial' });

    const failed = run([
      { type: 'userAsked', userId: 'u', assistantId: 'a', prompt: 'x' },
      { type: 'chatFailed', assistantId: 'a', error: 'No model configured' },
    ]);
    expect(failed.messages[1]).toMatchObject({ status: 'error', error: 'No model configured' });

    const evError = run([ev('r', 'error', 'model timed out')]);
    expect(evError.messages[0]).toMatchObject({ status: 'error', error: 'model timed out' });
    const evCancel = run([ev('r', 'error', 'run cancelled')]);
    expect(evCancel.messages[0]?.status).toBe('cancelled');
  });

  it('counts proposed edits and findings from the result', () => {
    const s = run([
      ev('r', 'result', '', {
        result: {
          message: 'done',
          edits: [{ path: 'a.py', old_text: 'x', new_text: 'y' }],
          findings: [{ path: 'a.py', start_line: 1, end_line: 1, severity: 'warning', rule: 'CWE-89', message: 'sql' }],
        },
      }),
    ]);
    expect(s.messages[0]).toMatchObject({ edits: 1, findings: 1, status: 'done' });
  });

  it('keeps the streamed text when the result has none', () => {
    const s = run([ev('r', 'delta', 'streamed'), ev('r', 'result', '', { result: { message: '', edits: [], findings: [] } })]);
    expect(s.messages[0]?.text).toBe('streamed');
  });

  it('clear empties the chat', () => {
    expect(run([ev('r', 'delta', 'x'), { type: 'clear' }]).messages).toEqual([]);
  });
});

describe('context chips', () => {
  it('accepts strings and objects, with lines and symbols', () => {
    const chips = extractContext({
      files: ['pkg/mod.py'],
      context: [{ path: 'pkg/util.py', start_line: 3, end_line: 9 }, { path: 'pkg/mod.py', symbol: 'load' }],
      symbols: ['Config'],
      ignored: 'x',
    });
    expect(chips.map((c) => c.label)).toEqual(['util.py:3-9', 'load · mod.py', 'mod.py', 'Config']);
  });

  it('deduplicates chips across events', () => {
    const s = run([ev('r', 'tool', 'search', { files: ['a.py'] }), ev('r', 'tool', 'read', { files: ['a.py', 'b.py'] })]);
    expect(s.messages[0]?.context.map((c) => c.path)).toEqual(['a.py', 'b.py']);
  });
});

describe('history and persistence', () => {
  it('sends finished chat turns as history, not crew runs', () => {
    const s = run([
      { type: 'userAsked', userId: 'u', assistantId: 'a', prompt: 'q1' },
      { type: 'chatCompleted', assistantId: 'a', result: { runId: 'r', text: 'a1' } },
      ev('crew', 'result', '', { crew: 'explain', result: { message: 'explained', edits: [], findings: [] } }),
    ]);
    expect(historyFor(s)).toEqual([
      { role: 'user', content: 'q1' },
      { role: 'assistant', content: 'a1' },
    ]);
    expect(historyFor(s, 1)).toEqual([{ role: 'assistant', content: 'a1' }]);
  });

  it('persists unfinished runs as stopped and restores defensively', () => {
    const s = run([{ type: 'userAsked', userId: 'u', assistantId: 'a', prompt: 'q' }, ev('r', 'delta', 'part')]);
    const saved = JSON.parse(JSON.stringify(toPersisted(s))) as unknown;
    const restored = fromPersisted(saved);
    expect(restored.messages[1]).toMatchObject({ status: 'cancelled', text: 'part' });
    expect(fromPersisted(undefined).messages).toEqual([]);
    expect(fromPersisted({ messages: [{ id: 1 }, null, { id: 'x', role: 'user', text: 't' }] }).messages).toHaveLength(1);
  });
});
