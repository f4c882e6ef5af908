/**
 * The chat's model picker: which model answers the next chat turns, chosen among the
 * configured model, its fallbacks, the per-agent models and a running local (Ollama) model,
 * or typed in. The choice goes with each llmgenie/chat request (`model`), so nothing
 * restarts and no setting changes. Pure; src/chat/chatViewProvider.ts shows it.
 */

export interface PickerInput {
  /** The server's configured model (llmgenie/status), if any. */
  configured?: string | null;
  fallbacks?: ReadonlyArray<string>;
  agentModels?: Readonly<Record<string, string>>;
  /** A running local model the server found (llmgenie.configureModel's `suggested`). */
  suggested?: string | null;
  /** The chat's current choice (undefined: the configured model). */
  current?: string;
}

export type ModelPick =
  | { action: 'default'; label: string; description: string }
  | { action: 'use'; label: string; description: string; model: string }
  | { action: 'enter'; label: string; description: string };

const CHECK = '$(check) ';

export function pickerItems(input: PickerInput): ModelPick[] {
  const items: ModelPick[] = [];
  const current = input.current;
  const mark = (chosen: boolean, label: string): string => (chosen ? CHECK : '') + label;
  items.push({
    action: 'default',
    label: mark(current === undefined, input.configured ? `Configured model (${input.configured})` : 'Configured model'),
    description: input.configured ? 'llmgenie.model, then its fallbacks' : 'none is configured yet',
  });
  const seen = new Set<string>();
  const add = (model: string | null | undefined, description: string): void => {
    const m = model?.trim();
    if (!m || seen.has(m)) return;
    seen.add(m);
    items.push({ action: 'use', label: mark(current === m, m), description, model: m });
  };
  // the configured model is the first entry (with its fallbacks behind it)
  if (input.configured) seen.add(input.configured);
  for (const f of input.fallbacks ?? []) add(f, 'a fallback');
  for (const [role, m] of Object.entries(input.agentModels ?? {})) add(m, `the ${role} agent's model`);
  add(input.suggested, 'local, running now: nothing leaves this machine');
  if (current !== undefined) add(current, 'chosen earlier');
  items.push({ action: 'enter', label: 'Other model…', description: 'any litellm model, e.g. openai/gpt-4o-mini, ollama/llama3.1' });
  return items;
}

/** What the chat's model button says. */
/** The chat's choice after picking `model`: the configured model is no choice (undefined). */
export function chosenModel(model: string | undefined, configured: string | null | undefined): string | undefined {
  const m = model?.trim();
  return !m || m === configured ? undefined : m;
}

export function modelButton(current: string | undefined, configured: string | null | undefined): { label: string; title: string } {
  if (current) {
    return { label: current, title: `The chat answers with ${current} (chosen here). Click to change.` };
  }
  if (configured) {
    return { label: configured, title: `The chat answers with the configured model, ${configured}, then its fallbacks. Click to change.` };
  }
  return { label: 'no model', title: 'No model is configured. Click to choose one.' };
}
