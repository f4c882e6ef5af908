import { describe, expect, it } from 'vitest';
import { modelChoices, validModelName } from '../../src/core/modelSetup';

describe('Configure a model…', () => {
  it('offers a running local model first, then the other ways', () => {
    const choices = modelChoices({ configured: false, suggested: 'ollama_chat/qwen2.5-coder:1.5b', message: 'No model configured.' });
    expect(choices.map((c) => c.action)).toEqual(['use', 'enter', 'key', 'settings']);
    expect(choices[0]).toMatchObject({ model: 'ollama_chat/qwen2.5-coder:1.5b', label: 'Use ollama_chat/qwen2.5-coder:1.5b' });
    expect(modelChoices({ configured: false, suggested: null, message: '' }).map((c) => c.action)).toEqual(['enter', 'key', 'settings']);
  });

  it('checks a typed model name', () => {
    expect(validModelName('openai/gpt-4o-mini')).toBeUndefined();
    expect(validModelName('  ')).toBeDefined();
    expect(validModelName('gpt 4')).toBeDefined();
  });
});
