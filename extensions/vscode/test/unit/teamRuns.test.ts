import { describe, expect, it, vi } from 'vitest';
import { ago } from '../../src/team/teamRunsView';

vi.mock('vscode', () => ({}));

describe('team runs view', () => {
  it('says how long ago a run started', () => {
    const now = 1_000_000;
    expect(ago(now - 10, now)).toBe('just now');
    expect(ago(now - 300, now)).toBe('5 min ago');
    expect(ago(now - 7200, now)).toBe('2 h ago');
    expect(ago(now - 3 * 86400, now)).toBe('3 d ago');
  });
});
