import { describe, expect, it } from 'vitest';
import type { RunCrewArgs } from '../../src/core/protocol';
import { newTraceparent, traceIdOf, withTrace } from '../../src/core/trace';

const W3C = /^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/;

describe('trace context of a run', () => {
  it('is a sampled W3C traceparent with fresh ids each time', () => {
    const first = newTraceparent();
    expect(first).toMatch(W3C);
    expect(newTraceparent()).not.toBe(first);
  });

  it('never sends the invalid all-zero ids', () => {
    const zeros = (size: number) => new Uint8Array(size);
    expect(newTraceparent(zeros)).toBe('00-00000000000000000000000000000001-0000000000000001-01');
  });

  it('names the trace id, and nothing for a malformed header', () => {
    expect(traceIdOf('00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01')).toBe(
      '4bf92f3577b34da6a3ce929d0e0e4736',
    );
    expect(traceIdOf('not-a-trace')).toBeUndefined();
    expect(traceIdOf(undefined)).toBeUndefined();
  });

  it('adds a context to runCrew arguments, keeping one the caller brought', () => {
    const run: RunCrewArgs = { crew: 'explain' };
    expect(withTrace(run, () => 'T')).toEqual({ crew: 'explain', traceparent: 'T' });
    expect(run.traceparent).toBeUndefined(); // the caller's object is left as it was
    expect(withTrace({ ...run, traceparent: 'mine' }, () => 'T').traceparent).toBe('mine');
  });
});
