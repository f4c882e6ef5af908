import { describe, expect, it } from 'vitest';
import { chosenModel, modelButton, pickerItems } from '../../src/core/modelPicker';

describe('pickerItems', () => {
  it('offers the configured model, its fallbacks, the agent models and a running local model, once each', () => {
    const items = pickerItems({
      configured: 'openai/gpt-4o-mini',
      fallbacks: ['anthropic/claude-3-5-haiku-latest', 'openai/gpt-4o-mini'],
      agentModels: { security: 'openai/gpt-4o', documentation: 'anthropic/claude-3-5-haiku-latest' },
      suggested: 'ollama/llama3.1',
    });
    expect(items.map((i) => [i.action, i.label])).toEqual([
      ['default', '$(check) Configured model (openai/gpt-4o-mini)'],
      ['use', 'anthropic/claude-3-5-haiku-latest'],
      ['use', 'openai/gpt-4o'],
      ['use', 'ollama/llama3.1'],
      ['enter', 'Other model…'],
    ]);
    expect(items[3]).toMatchObject({ model: 'ollama/llama3.1', description: expect.stringContaining('nothing leaves this machine') });
  });

  it('ticks the current choice and keeps one typed earlier in the list', () => {
    const items = pickerItems({ configured: 'openai/gpt-4o-mini', suggested: 'ollama/qwen2.5', current: 'groq/llama-3.1-8b-instant' });
    expect(items.map((i) => i.label)).toEqual([
      'Configured model (openai/gpt-4o-mini)',
      'ollama/qwen2.5',
      '$(check) groq/llama-3.1-8b-instant',
      'Other model…',
    ]);
  });

  it('still offers a local model and Other when no model is configured', () => {
    const items = pickerItems({ configured: null, suggested: 'ollama/llama3.1' });
    expect(items[0]).toMatchObject({ action: 'default', description: 'none is configured yet' });
    expect(items.map((i) => i.action)).toEqual(['default', 'use', 'enter']);
  });
});

describe('chosenModel and the button', () => {
  it('treats picking the configured model (or nothing) as no choice', () => {
    expect(chosenModel('openai/gpt-4o-mini', 'openai/gpt-4o-mini')).toBeUndefined();
    expect(chosenModel('  ', 'x')).toBeUndefined();
    expect(chosenModel(' ollama/llama3.1 ', 'x')).toBe('ollama/llama3.1');
  });

  it('says which model answers, and whether it was chosen here', () => {
    expect(modelButton(undefined, 'openai/gpt-4o-mini')).toEqual({
      label: 'openai/gpt-4o-mini',
      title: 'The chat answers with the configured model, openai/gpt-4o-mini, then its fallbacks. Click to change.',
    });
    expect(modelButton('ollama/llama3.1', 'openai/gpt-4o-mini').label).toBe('ollama/llama3.1');
    expect(modelButton('ollama/llama3.1', 'openai/gpt-4o-mini').title).toContain('chosen here');
    expect(modelButton(undefined, null).label).toBe('no model');
  });
});
