// Bundles the extension host code (node, CommonJS, `vscode` external) and the chat webview
// (browser IIFE with markdown-it + highlight.js inlined: the webview loads nothing remote).
import * as esbuild from 'esbuild';

const watch = process.argv.includes('--watch');
const production = !watch;
const common = { bundle: true, sourcemap: production ? false : 'inline', minify: production, logLevel: 'info', legalComments: 'linked' };

const builds = [
  { ...common, entryPoints: ['src/extension.ts'], outfile: 'out/extension.js', platform: 'node', format: 'cjs', target: 'node20', external: ['vscode'] },
  { ...common, entryPoints: ['src/webview/main.ts'], outfile: 'out/webview.js', platform: 'browser', format: 'iife', target: 'es2022' },
];

if (watch) {
  for (const b of builds) {
    const ctx = await esbuild.context(b);
    await ctx.watch();
  }
} else {
  await Promise.all(builds.map((b) => esbuild.build(b)));
}
