// Packages the VS Code extension for Cursor (Open VSX): derives the manifest from
// extensions/vscode/package.json (Cursor naming) and packages the
// SAME compiled output (extensions/vscode/out) with vsce. No source is copied or forked.
// Run after the VS Code build: `node extensions/cursor/package-cursor.mjs`.
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { deriveCursorManifest } from './manifest.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const vscodeDir = join(here, '..', 'vscode');
const stage = join(here, 'dist', 'stage');
const base = JSON.parse(readFileSync(join(vscodeDir, 'package.json'), 'utf8'));
const manifest = deriveCursorManifest(base);

for (const f of ['out/extension.js', 'out/webview.js']) {
  if (!existsSync(join(vscodeDir, f))) {
    throw new Error(`${f} is missing: build the VS Code extension first (extensions/build.sh)`);
  }
}
rmSync(stage, { recursive: true, force: true });
mkdirSync(stage, { recursive: true });
writeFileSync(join(stage, 'package.json'), JSON.stringify(manifest, null, 2) + '\n');
cpSync(join(vscodeDir, 'out'), join(stage, 'out'), { recursive: true });
cpSync(join(vscodeDir, 'media'), join(stage, 'media'), { recursive: true });
// the llmgenie wheel the managed environment installs (built by extensions/build.sh)
cpSync(join(vscodeDir, 'server-dist'), join(stage, 'server-dist'), { recursive: true });
for (const f of ['LICENSE', 'CHANGELOG.md', '.vscodeignore']) {
  cpSync(join(vscodeDir, f), join(stage, f));
}
cpSync(join(here, 'README.md'), join(stage, 'README.md'));

const vsce = join(vscodeDir, 'node_modules', '@vscode', 'vsce', 'vsce');
const out = join(here, 'dist', `${manifest.name}-${manifest.version}.vsix`);
execFileSync(process.execPath, [vsce, 'package', '--no-dependencies', '--allow-missing-repository', '--out', out], { cwd: stage, stdio: 'inherit' });
rmSync(stage, { recursive: true, force: true });
console.log(`cursor package: ${out}`);
