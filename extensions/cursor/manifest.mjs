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
  // Ctrl+I is Cursor's own agent/composer key: there, inline edit stays in the editor's
  // context menu and the palette (users can bind it themselves)
  m.contributes.keybindings = (m.contributes.keybindings ?? []).filter((k) => !(k.command === 'llmgenie.ui.inlineEdit' && /^ctrl\+i$/i.test(k.key)));
  // dev-only fields have no meaning in the packaged manifest
  delete m.scripts;
  delete m.devDependencies;
  return m;
}
