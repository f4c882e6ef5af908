import { describe, expect, it } from 'vitest';
import { buildInitializationOptions, redactOptions } from '../../src/core/initOptions';

describe('buildInitializationOptions', () => {
  it('sends only what is set, with secrets from SecretStorage', () => {
    const opts = buildInitializationOptions(
      {
        model: ' openai/scripted ',
        fallbacks: ['', 'openai/gpt-4o-mini'],
        agentModels: { security: 'openai/gpt-4o', docs: '' },
        apiBase: 'http://127.0.0.1:9/v1',
        embeddings: '',
        ignore: [],
        maxFileBytes: null,
        teamServerUrl: '',
      },
      { apiKey: 'sk-test' },
    );
    expect(opts).toEqual({
      model: 'openai/scripted',
      fallbacks: ['openai/gpt-4o-mini'],
      agentModels: { security: 'openai/gpt-4o' },
      apiBase: 'http://127.0.0.1:9/v1',
      apiKey: 'sk-test',
    });
  });

  it('passes index limits, embeddings and team server', () => {
    const opts = buildInitializationOptions(
      { embeddings: 'none', ignore: ['*.min.js'], maxFileBytes: 2048.7, teamServerUrl: 'wss://team' },
      { teamToken: 'tok' },
    );
    expect(opts).toEqual({ embeddings: 'none', ignore: ['*.min.js'], maxFileBytes: 2048, teamServerUrl: 'wss://team', teamToken: 'tok' });
  });

  it("passes the editor's workspace trust", () => {
    expect(buildInitializationOptions({}, {}, true)).toEqual({ workspaceTrusted: true });
    expect(buildInitializationOptions({}, {}, false)).toEqual({ workspaceTrusted: false });
    expect(buildInitializationOptions({}, {})).toEqual({});
  });

  it('never logs secrets', () => {
    const redacted = redactOptions(buildInitializationOptions({ model: 'm' }, { apiKey: 'sk-secret', teamToken: 't' }));
    expect(JSON.stringify(redacted)).not.toContain('sk-secret');
    expect(redacted).toMatchObject({ model: 'm', apiKey: '***', teamToken: '***' });
  });
});
