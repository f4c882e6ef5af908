/**
 * "Configure a model…": the choices offered when no model is set. Pure (tested without
 * VS Code); src/server/modelSetup.ts shows them and acts on the pick.
 */

/** The server's answer to `llmgenie.configureModel`. */
export interface ModelSetup {
  configured: boolean;
  suggested: string | null;
  message: string;
}

export type ModelChoice =
  | { action: 'use'; label: string; detail: string; model: string }
  | { action: 'enter' | 'key' | 'settings'; label: string; detail: string };

export function modelChoices(setup: ModelSetup): ModelChoice[] {
  const choices: ModelChoice[] = [];
  if (setup.suggested) {
    choices.push({
      action: 'use',
      label: `Use ${setup.suggested}`,
      detail: 'a local model, running now: nothing leaves this machine',
      model: setup.suggested,
    });
  }
  choices.push(
    { action: 'enter', label: 'Enter a model name…', detail: 'any litellm model, e.g. openai/gpt-4o-mini or anthropic/claude-3-5-haiku-latest' },
    { action: 'key', label: 'Set API key…', detail: "kept in VS Code's secret storage, sent only to the model's provider" },
    { action: 'settings', label: 'Open llmgenie settings', detail: 'model, fallbacks, API base' },
  );
  return choices;
}

/** A model name a user typed: litellm strings are provider/model, without spaces. */
export function validModelName(value: string): string | undefined {
  const v = value.trim();
  if (!v) return 'enter a model, e.g. openai/gpt-4o-mini';
  if (/\s/.test(v)) return 'a model name has no spaces';
  return undefined;
}
