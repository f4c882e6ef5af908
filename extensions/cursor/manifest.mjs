// The Cursor manifest, derived from the VS Code one: Cursor naming for Open VSX, the same
// code and contributions. (The agents read .cursorrules and .cursor/rules/*.mdc as project
// guidance in every editor, like AGENTS.md: no setting needed.)

/** @param {Record<string, any>} base the VS Code package.json */
export function deriveCursorManifest(base) {
  const m = structuredClone(base);
  m.name = `${base.name}-cursor`;
  m.displayName = `${base.displayName.replace(/ — .*/, '')} for Cursor — AI engineering team`;
  m.description = `${base.description} Cursor build; follows your Cursor rules (.cursorrules, .cursor/rules/*.mdc).`;
  m.keywords = [...new Set([...(base.keywords ?? []), 'cursor', 'cursor rules'])];
  // dev-only fields have no meaning in the packaged manifest
  delete m.scripts;
  delete m.devDependencies;
  return m;
}
