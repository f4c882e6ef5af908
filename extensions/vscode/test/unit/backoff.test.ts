import { describe, expect, it } from 'vitest';
import { RestartBackoff, formatDelay } from '../../src/core/backoff';

const opts = { initialDelayMs: 1000, maxDelayMs: 8000, maxCrashes: 5, windowMs: 180_000, stableAfterMs: 60_000 };

describe('RestartBackoff', () => {
  it('doubles the delay on each crash up to the cap', () => {
    const b = new RestartBackoff(opts);
    const delays: number[] = [];
    let t = 0;
    for (let i = 0; i < 5; i++) {
      b.started(t);
      t += 100;
      const d = b.crashed(t);
      expect(d.restart).toBe(true);
      if (d.restart) delays.push(d.delayMs);
    }
    expect(delays).toEqual([1000, 2000, 4000, 8000, 8000]);
  });

  it('gives up when the server crashes too often within the window', () => {
    const b = new RestartBackoff(opts);
    for (let i = 0; i < 5; i++) expect(b.crashed(i * 1000).restart).toBe(true);
    const d = b.crashed(6000);
    expect(d).toEqual({ restart: false, crashes: 6 });
  });

  it('forgets old crashes outside the window', () => {
    const b = new RestartBackoff(opts);
    for (let i = 0; i < 5; i++) b.crashed(i * 1000);
    expect(b.crashed(200_000).restart).toBe(true);
  });

  it('starts the delay over after a stable run', () => {
    const b = new RestartBackoff(opts);
    b.started(0);
    b.crashed(10);
    b.started(1000);
    b.crashed(1010);
    b.started(2000);
    const d = b.crashed(2000 + 61_000);
    expect(d).toMatchObject({ restart: true, delayMs: 1000, attempt: 1 });
  });

  it('reset clears the history', () => {
    const b = new RestartBackoff(opts);
    for (let i = 0; i < 6; i++) b.crashed(i);
    b.reset();
    expect(b.crashed(10)).toMatchObject({ restart: true, delayMs: 1000 });
  });

  it('formats delays for people', () => {
    expect(formatDelay(2000)).toBe('2 s');
    expect(formatDelay(1500)).toBe('1.5 s');
  });
});
