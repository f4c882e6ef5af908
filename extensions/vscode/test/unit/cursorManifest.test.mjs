// The Cursor package is derived from the VS Code manifest, not a copy of it.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { deriveCursorManifest } from '../../../cursor/manifest.mjs';

const base = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8'));

describe('deriveCursorManifest', () => {
  const m = deriveCursorManifest(base);
  it('renames the package for Cursor / Open VSX and keeps the same code', () => {
    expect(m.name).toBe('llmgenie-cursor');
    expect(m.displayName).toContain('for Cursor');
    expect(m.main).toBe(base.main);
    expect(m.publisher).toBe(base.publisher);
    expect(m.contributes.commands).toEqual(base.contributes.commands);
  });
  it("leaves Ctrl+I to Cursor's own agent: inline edit has no key there", () => {
    const inline = (manifest) => manifest.contributes.keybindings.filter((k) => k.command === 'llmgenie.ui.inlineEdit');
    expect(inline(base).map((k) => k.key)).toEqual(['ctrl+i']);
    expect(inline(m)).toEqual([]);
    expect(m.contributes.keybindings.length).toBe(base.contributes.keybindings.length - 1);
  });
  it('keeps the same settings', () => {
    expect(m.contributes.configuration.properties).toEqual(base.contributes.configuration.properties);
  });
  it('drops dev-only fields', () => {
    expect(m.scripts).toBeUndefined();
    expect(m.devDependencies).toBeUndefined();
    expect(m.dependencies).toEqual(base.dependencies);
  });
});
