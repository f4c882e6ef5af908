/**
 * The first-run walkthrough ("Get started with llmgenie", package.json `walkthroughs`):
 * which one it is and when it opens on its own. Pure; src/extension.ts acts on it.
 */
import type { ServerStatus } from './protocol';

/** The walkthrough's id in package.json. */
export const WALKTHROUGH_ID = 'welcome';

/** Where VS Code finds it: `publisher.name#id`. */
export function walkthroughRef(publisher: string, name: string): string {
  return `${publisher}.${name}#${WALKTHROUGH_ID}`;
}

/** Opens once per install, when the server first says no model is configured: a user
 * with a model needs no tour, and one who closed it is not asked again. */
export function shouldOpenWalkthrough(alreadyShown: boolean, status: Pick<ServerStatus, 'model'> | undefined): boolean {
  return !alreadyShown && status !== undefined && !status.model.configured;
}
