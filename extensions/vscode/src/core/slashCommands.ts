/**
 * Slash commands in the chat: `/explain`, `/fix the total ignores discounts`, `/help`… run
 * the crew of that id on the active editor's selection instead of chatting. The list is the
 * server's crew catalog (generated), so a new crew is a new command with no change here.
 * Anything else that starts with a slash (a path, an unknown word) stays a chat message.
 */
import type { CrewInfo } from './generated/catalog';

export type Slash =
  | { kind: 'crew'; crew: CrewInfo; prompt: string }
  | { kind: 'needsPrompt'; crew: CrewInfo; text: string }
  | { kind: 'help'; text: string };

const SLASH = /^\/([A-Za-z][\w-]*)(?:\s+([\s\S]*))?$/;

export function parseSlash(input: string, crews: ReadonlyArray<CrewInfo>): Slash | undefined {
  const match = SLASH.exec(input.trim());
  if (!match) {
    return undefined;
  }
  const name = (match[1] ?? '').toLowerCase();
  const prompt = (match[2] ?? '').trim();
  if (name === 'help') {
    return { kind: 'help', text: slashHelp(crews) };
  }
  const crew = crews.find((c) => c.id === name);
  if (!crew) {
    return undefined;
  }
  if (crew.needs_prompt && !prompt) {
    return { kind: 'needsPrompt', crew, text: `/${crew.id} needs a request after it, e.g. \`/${crew.id} ${example(crew)}\`.` };
  }
  return { kind: 'crew', crew, prompt };
}

/** What /help answers: every command with what it does. */
export function slashHelp(crews: ReadonlyArray<CrewInfo>): string {
  const lines = crews.map((c) => `- \`/${c.id}\` — ${c.label}: ${c.detail}`);
  return ['Commands run a crew on the active editor (its selection, else the file):', ...lines].join('\n');
}

function example(crew: CrewInfo): string {
  return crew.id === 'fix' ? 'the total ignores discounts' : 'what you want done';
}
