import { describe, expect, it, vi } from 'vitest';
import { ago, runTooltip } from '../../src/team/teamRunsView';

vi.mock('vscode', () => ({}));

describe('team runs view', () => {
  it('says how long ago a run started', () => {
    const now = 1_000_000;
    expect(ago(now - 10, now)).toBe('just now');
    expect(ago(now - 300, now)).toBe('5 min ago');
    expect(ago(now - 7200, now)).toBe('2 h ago');
    expect(ago(now - 3 * 86400, now)).toBe('3 d ago');
  });

  it('shows the trace id of a traced run', () => {
    const run = { run_id: 'r1', crew: 'review', status: 'succeeded', created_at: 0, request: {} };
    expect(runTooltip(run)).toBe('review succeeded (r1)');
    expect(runTooltip({ ...run, trace_id: '4bf92f3577b34da6a3ce929d0e0e4736' })).toBe(
      'review succeeded (r1)\ntrace 4bf92f3577b34da6a3ce929d0e0e4736',
    );
  });
});
