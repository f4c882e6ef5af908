import { describe, expect, it } from 'vitest';
import type { ServerStatus } from '../../src/core/protocol';
import { computeStatus, shortModel } from '../../src/core/statusText';

const running = { phase: 'running' } as const;
const base: ServerStatus = {
  indexing: { state: 'idle', done: 12, total: 12 },
  model: { configured: true, model: 'openai/gpt-4o-mini' },
  degraded: [],
};

describe('computeStatus', () => {
  it('shows indexing progress', () => {
    const v = computeStatus(running, { ...base, indexing: { state: 'indexing', done: 40, total: 160 } });
    expect(v.text).toContain('indexing 40/160');
    expect(v.tooltip).toContain('(25%)');
    expect(v.severity).toBe('normal');
  });

  it('shows the active model when idle', () => {
    const v = computeStatus(running, base);
    expect(v.text).toBe('llmgenie $(check) gpt-4o-mini');
    expect(v.tooltip).toContain('Model: openai/gpt-4o-mini');
  });

  it('warns when no model is configured', () => {
    const v = computeStatus(running, { ...base, model: { configured: false }, degraded: ['no model configured'] });
    expect(v.text).toContain('no model');
    expect(v.severity).toBe('warning');
    expect(v.tooltip).toContain('set llmgenie.model');
    expect(v.tooltip).not.toContain('Degraded: no model');
  });

  it('warns about missing embeddings', () => {
    const v = computeStatus(running, { ...base, degraded: ['embeddings unavailable: onnxruntime missing'] });
    expect(v.text).toContain('no embeddings');
    expect(v.tooltip).toContain('Degraded: embeddings unavailable');
    expect(v.severity).toBe('warning');
  });

  it('shows paused indexing', () => {
    expect(computeStatus(running, { ...base, indexing: { state: 'paused', done: 3, total: 9 } }).text).toContain('indexing paused');
  });

  it('shows the team server connection', () => {
    expect(computeStatus(running, { ...base, remote: { connected: true, url: 'wss://t' } }).text).toContain('$(cloud)');
    const off = computeStatus(running, { ...base, remote: { connected: false, url: 'wss://t' } });
    expect(off.text).toContain('$(cloud-offline)');
    expect(off.severity).toBe('warning');
  });

  it('tells signed out apart from unreachable', () => {
    const out = computeStatus(running, {
      ...base,
      remote: { connected: false, url: 'https://t', state: 'signed_out', reason: 'token revoked' },
    });
    expect(out.text).toContain('signed out');
    expect(out.tooltip).toContain('Sign in to Team Server');
    expect(out.tooltip).toContain('token revoked');
    const down = computeStatus(running, {
      ...base,
      remote: { connected: false, url: 'https://t', state: 'unreachable', reason: 'connection refused' },
    });
    expect(down.text).not.toContain('signed out');
    expect(down.tooltip).toContain('unreachable (connection refused); runs go on locally');
  });

  it('reflects the client lifecycle', () => {
    expect(computeStatus({ phase: 'starting' }, undefined).tooltip).toContain('starting');
    expect(computeStatus({ phase: 'installing' }, undefined).text).toContain('installing');
    const r = computeStatus({ phase: 'restarting', delayMs: 4000, attempt: 3 }, base);
    expect(r.tooltip).toContain('restart 3 in 4 s');
    const s = computeStatus({ phase: 'stopped', error: 'boom' }, base);
    expect(s.severity).toBe('error');
    expect(s.tooltip).toContain('boom');
  });

  it('shortens model names', () => {
    expect(shortModel('openai/gpt-4o')).toBe('gpt-4o');
    expect(shortModel('gpt-4o')).toBe('gpt-4o');
  });
});
