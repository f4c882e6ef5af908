/**
 * Multi-root workspaces: which folder a workspace-relative path (a chat chip, a path in an
 * answer) most likely belongs to. Pure, so it is unit-tested without VS Code.
 */

/** The folders to try, in order: the folder of the editor the chat is about, then the rest. */
export function foldersToTry<F>(folders: readonly F[], active: F | undefined): F[] {
  if (active === undefined || !folders.includes(active)) {
    return [...folders];
  }
  return [active, ...folders.filter((f) => f !== active)];
}

/** The first candidate for which `exists` holds, else the first candidate (or undefined). */
export async function firstExisting<T>(candidates: readonly T[], exists: (c: T) => Promise<boolean>): Promise<T | undefined> {
  for (const candidate of candidates) {
    if (await exists(candidate)) {
      return candidate;
    }
  }
  return candidates[0];
}
