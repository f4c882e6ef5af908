// Helpers that drive the VS Code workbench (code-server) the way a user does: explorer
// clicks, keyboard shortcuts, the code-action widget, the chat webview, the status bar.
import { expect, type FrameLocator, type Locator, type Page } from '@playwright/test';
import * as fs from 'node:fs';
import * as path from 'node:path';

export const env = {
  url: must('E2E_URL'),
  workspace: must('E2E_WORKSPACE'),
  artifacts: process.env.E2E_ARTIFACTS ?? path.resolve(__dirname, '../../test-artifacts/e2e'),
  modelPort: process.env.E2E_MODEL_PORT ?? '',
  hasModelServer: process.env.E2E_MODEL_SERVER === '1',
};

function must(name: string): string {
  const v = process.env[name];
  if (!v) {
    throw new Error(`${name} is not set: run the e2e test through scripts/e2e.sh`);
  }
  return v;
}

/** Saves a screenshot as test-artifacts/e2e/NAME.png and returns its path. */
export async function shot(page: Page, name: string): Promise<string> {
  fs.mkdirSync(env.artifacts, { recursive: true });
  const file = path.join(env.artifacts, `${name}.png`);
  await page.screenshot({ path: file });
  return file;
}

/** The llmgenie status bar item. */
export function statusItem(page: Page): Locator {
  return page.locator('.statusbar-item', { hasText: /llmgenie/ }).first();
}

/** The status item's text including codicon names ("$(check)"), from its aria-label/text. */
export async function statusText(page: Page): Promise<string> {
  const item = statusItem(page);
  const label = (await item.getAttribute('aria-label').catch(() => null)) ?? '';
  const icons = await item
    .locator('.codicon')
    .evaluateAll((els) => els.map((e) => Array.from(e.classList).find((c) => c.startsWith('codicon-') && c !== 'codicon-modifier-spin') ?? ''));
  const text = (await item.innerText().catch(() => '')).replace(/\s+/g, ' ').trim();
  return `${text} [${icons.join(',')}] ${label}`;
}

export async function openWorkbench(page: Page): Promise<void> {
  await page.goto(env.url);
  await page.locator('.monaco-workbench').waitFor({ timeout: 90_000 });
}

/** Opens a workspace file from the explorer, expanding folders on the way. */
export async function openFile(page: Page, relPath: string, firstLineText: string): Promise<Locator> {
  const parts = relPath.split('/');
  const explorer = page.locator('.explorer-folders-view');
  // another view (the llmgenie chat) may hold the side bar: show the explorer, as a user would
  const explorerTab = page.getByRole('tab', { name: /^Explorer/ });
  await explorerTab.waitFor({ timeout: 60_000 });
  if (!(await explorer.isVisible())) {
    await explorerTab.click();
  }
  await explorer.waitFor({ timeout: 60_000 });
  for (const [i, part] of parts.entries()) {
    const row = explorer.getByRole('treeitem', { name: part, exact: true }).first();
    await row.waitFor({ timeout: 30_000 });
    const isFolder = i < parts.length - 1;
    if (isFolder) {
      if ((await row.getAttribute('aria-expanded')) !== 'true') {
        await row.click();
      }
    } else {
      await row.click();
    }
  }
  const editor = page.locator('.editor-instance .monaco-editor').first();
  await editor.locator('.view-lines', { hasText: firstLineText }).waitFor({ timeout: 30_000 });
  return editor;
}

/** Puts the cursor on the first line containing `text`. */
export async function clickLine(editor: Locator, text: string): Promise<void> {
  await editor.locator('.view-line', { hasText: text }).first().click();
}

/**
 * Opens the code-action menu (Ctrl+.) until it lists `expected`. Never presses Ctrl+. while the
 * widget is open: that would accept the selected action.
 */
export async function openCodeActions(page: Page, expected: string, attempts = 60): Promise<Locator> {
  const widget = page.locator('div.action-widget:not(.action-list-submenu-panel)').first();
  let last = '';
  for (let i = 0; i < attempts; i++) {
    await page.keyboard.press('Control+Period');
    try {
      await widget.waitFor({ state: 'visible', timeout: 2000 });
      last = await widget.innerText();
      if (last.includes(expected)) {
        return widget;
      }
    } catch {
      last = '(no widget)';
    }
    await page.keyboard.press('Escape');
    await page.waitForTimeout(1000);
  }
  throw new Error(`code actions never listed "${expected}"; last menu: ${JSON.stringify(last)}`);
}

/**
 * Opens the code-action menu and clicks `title`. Under load the menu can re-render while it
 * is clicked, so the click counts only once the menu has closed; otherwise it is retried.
 */
export async function runCodeAction(page: Page, title: string, attempts = 3): Promise<void> {
  for (let i = 1; ; i++) {
    const widget = await openCodeActions(page, title);
    await widget.locator('.monaco-list-row', { hasText: title }).first().click();
    try {
      await widget.waitFor({ state: 'hidden', timeout: 5000 });
      return;
    } catch (err) {
      if (i >= attempts) {
        throw err;
      }
      await page.keyboard.press('Escape');
    }
  }
}

/** The chat panel's webview document (VS Code nests it in two iframes). */
export function chatFrame(page: Page): FrameLocator {
  return page.frameLocator('iframe.webview[src*="llmgenie.llmgenie"]').frameLocator('iframe#active-frame');
}

export async function lastAnswer(page: Page): Promise<Locator> {
  const answer = chatFrame(page).locator('article.msg.assistant').last();
  await answer.waitFor({ timeout: 60_000 });
  return answer;
}

/** Runs a command from the palette (F1). */
export async function runCommand(page: Page, title: string): Promise<void> {
  await page.keyboard.press('F1');
  const input = page.locator('.quick-input-widget input');
  await input.waitFor();
  await input.fill(`>${title}`);
  await page.locator('.quick-input-list .monaco-list-row', { hasText: title }).first().waitFor();
  await page.keyboard.press('Enter');
}

// ---- the scripted model server (tests/support/model_server.py control endpoints) ----

async function modelCall(method: 'GET' | 'POST', route: string, body?: unknown): Promise<unknown> {
  const r = await fetch(`http://127.0.0.1:${env.modelPort}${route}`, {
    method,
    headers: { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  expect(r.ok, `${method} ${route}: HTTP ${r.status}`).toBe(true);
  const text = await r.text();
  return text ? (JSON.parse(text) as unknown) : undefined;
}

export const model = {
  reset: () => modelCall('POST', '/_reset'),
  script: (script: unknown) => modelCall('POST', '/_script', script),
  requests: async () => (await modelCall('GET', '/_requests')) as Array<{ path: string; model: string | null; disconnected: boolean; body: unknown }>,
};
