// A new user's first start: a clean code-server profile (fresh user-data and extensions
// dirs, no llmgenie.pythonPath, no LLMGENIE_PYTHON, no Python extension) with only the .vsix
// installed. The extension creates its managed environment (a venv with the llmgenie wheel it
// ships, its dependencies from the package index, and the local embedding model), shows the
// progress, starts the server from that venv, the status bar reaches ready with the fixture
// workspace indexed, and a search answers from the fixture's index with nothing degraded.
// Started by `scripts/e2e.sh clean` (part of `all`).
import { expect, test } from '@playwright/test';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { env, openWorkbench, runCommand, shot, statusItem, statusText } from './workbench';

/** The first install downloads ~100 packages (chromadb, crewai, onnxruntime, …) and prepares
 * the embedding model: minutes on a small machine, fewer with the e2e cache's pip cache. */
const INSTALL_TIMEOUT_MS = Number(process.env.E2E_INSTALL_TIMEOUT_S ?? 1500) * 1000;

/** Where the extension keeps its managed environment in this profile. */
const managedVenv = path.join(must('E2E_CS_DATA'), 'User', 'globalStorage', 'llmgenie.llmgenie', 'venv');

function must(name: string): string {
  const v = process.env[name];
  if (!v) {
    throw new Error(`${name} is not set: run the e2e test through scripts/e2e.sh clean`);
  }
  return v;
}

/** The command lines of this run's language servers (found by their cache-dir env). */
function serverCommands(): string[][] {
  const marker = `LLMGENIE_CACHE_DIR=${path.resolve(env.workspace, '..', 'llmgenie-cache')}`;
  const found: string[][] = [];
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) {
      continue;
    }
    try {
      const argv = fs.readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0').filter(Boolean);
      if (!/-m llmgenie serve --stdio/.test(argv.join(' '))) {
        continue;
      }
      if (fs.readFileSync(`/proc/${entry}/environ`, 'utf8').split('\0').includes(marker)) {
        found.push(argv);
      }
    } catch {
      // the process ended while we looked
    }
  }
  return found;
}

test('clean profile: the .vsix installs its own server and the status bar reaches ready', async ({ page }) => {
  test.setTimeout(INSTALL_TIMEOUT_MS + 300_000);
  const t0 = Date.now();
  expect(fs.existsSync(managedVenv), `no managed environment before the first start (${managedVenv})`).toBe(false);
  await openWorkbench(page);
  await statusItem(page).waitFor({ timeout: 90_000 });

  // The install shows itself: the status bar says "installing" and a progress notification
  // names what it is doing.
  await expect.poll(() => statusText(page), { timeout: 120_000, intervals: [500] }).toMatch(/installing/);
  const progress = page.locator('.notification-toast', { hasText: 'llmgenie: setting up the language server' });
  await expect(progress).toBeVisible({ timeout: 60_000 });
  await expect(progress).toContainText(/creating a virtual environment|installing/);
  console.log(`installing after ${Date.now() - t0} ms: ${(await progress.innerText()).replace(/\s+/g, ' ')}`);

  // Ready: the index is idle (check icon) on the fixture, the named model shows, nothing
  // degraded (the embedding model was installed too: no "no embeddings" warning).
  const seen: string[] = [];
  const messages = new Set<string>();
  await expect
    .poll(
      async () => {
        const s = await statusText(page);
        if (seen[seen.length - 1] !== s) {
          seen.push(s);
        }
        if (await progress.isVisible().catch(() => false)) {
          messages.add((await progress.innerText().catch(() => '')).replace(/\s+/g, ' ').trim());
        }
        return s;
      },
      { timeout: INSTALL_TIMEOUT_MS, intervals: [1000] },
    )
    .toMatch(/codicon-check.*scripted|scripted.*codicon-check/);
  console.log(`ready after ${Date.now() - t0} ms; progress:\n  ${[...messages].join('\n  ')}\nstatus bar:\n  ${seen.join('\n  ')}`);
  expect(await statusText(page)).not.toMatch(/no embeddings|warning|error/);
  await expect(progress).toBeHidden({ timeout: 30_000 });

  // The server runs from the managed venv the extension created in its global storage.
  const commands = serverCommands();
  expect(commands.length, 'one language server for this profile').toBe(1);
  expect(commands[0]?.[0]).toBe(path.join(managedVenv, 'bin', 'python'));

  // The fixture is indexed and searchable by meaning: the query shares no word with the code
  // of `mean` in calc/ops.py, yet it is the top hit (the local embedding model's vectors at
  // work), and the results name nothing degraded.
  await runCommand(page, 'llmgenie: Search Workspace…');
  const input = page.locator('.quick-input-widget input');
  await expect(page.locator('.quick-input-widget')).toContainText('llmgenie: Search Workspace');
  await input.fill('average of several numbers');
  await page.keyboard.press('Enter');
  const results = page.locator('.quick-input-widget', { hasText: /llmgenie: \d+ results for "average of several numbers"/ });
  await expect(results).toBeVisible({ timeout: 60_000 });
  await expect(results).not.toContainText('degraded');
  await expect(results.locator('.quick-input-list .monaco-list-row').first()).toContainText(/mean\s*calc\/ops\.py/);
  await shot(page, 'clean-profile-ready');
  await page.keyboard.press('Escape');
});
