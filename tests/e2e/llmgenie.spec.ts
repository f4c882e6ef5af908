// The llmgenie extension in a real VS Code (code-server), checked as a user would: the
// server starts and indexes, the lightbulb lists the crew's actions, Explain streams into
// the chat panel, Document proposes a reviewable edit that applies, Stop cancels a slow run,
// Apply merges a code block into the function it redefines, @-mentions complete and attach,
// the model picker switches the chat's model, Ctrl+I proposes a diff that can be discarded.
// Started by scripts/e2e.sh, which provides code-server, the .vsix and the model server.
import { expect, test, type Locator, type Page } from '@playwright/test';
import * as fs from 'node:fs';
import * as path from 'node:path';
import {
  chatFrame,
  clickLine,
  env,
  lastAnswer,
  model,
  openCodeActions,
  openFile,
  openWorkbench,
  runCodeAction,
  runCommand,
  shot,
  statusItem,
  statusText,
} from './workbench';

// One user session shared by the steps, in order. Not 'serial': a failing step restarts the
// worker (fresh page, see ready()) instead of skipping the remaining steps.
test.describe.configure({ mode: 'default' });

let page: Page;
let editor: Locator;

test.beforeAll(async ({ browser }) => {
  page = await browser.newPage();
  page.on('console', (m) => {
    if (m.type() === 'error' && /llmgenie|webview/i.test(m.text())) {
      console.log(`[browser] ${m.text()}`);
    }
  });
});

test.afterAll(async () => {
  await page?.close();
});

/** The workbench with calc/ops.py open (after a failed step the page is fresh). */
async function ready(): Promise<void> {
  if (!page.url().startsWith('http')) {
    await openWorkbench(page);
    await expect.poll(() => statusText(page), { timeout: 120_000 }).toMatch(/codicon-check/);
  }
  if (!editor || !(await editor.isVisible().catch(() => false))) {
    editor = await openFile(page, 'calc/ops.py', 'def add');
  }
}

test('the language server starts and indexing finishes in the status bar', async () => {
  const t0 = Date.now();
  await openWorkbench(page);
  await statusItem(page).waitFor({ timeout: 60_000 });
  const seen: string[] = [];
  let indexingShot = false;
  await expect
    .poll(
      async () => {
        const s = await statusText(page);
        if (seen[seen.length - 1] !== s) {
          seen.push(s);
          if (!indexingShot && /indexing/i.test(s)) {
            indexingShot = true;
            await shot(page, '1a-status-indexing');
          }
        }
        return s;
      },
      { timeout: 120_000, intervals: [200] },
    )
    // idle index (check icon) and the configured model's short name
    .toMatch(/codicon-check.*scripted|scripted.*codicon-check/);
  console.log(`status bar states after ${Date.now() - t0} ms:\n  ${seen.join('\n  ')}`);
  // progress was shown while the ~600-file workspace was indexed
  expect(seen.some((s) => /indexing \d+\/\d+/.test(s)), 'indexing progress in the status bar').toBe(true);
  await shot(page, '1b-status-ready');
  // hovering shows the details: the index is up to date and the model is named
  await statusItem(page).hover();
  await expect(page.locator('.monaco-hover, .workbench-hover').first()).toContainText('openai/scripted', { timeout: 10_000 });
  await shot(page, '1c-status-tooltip');
  await page.mouse.move(5, 500);
});

test('the lightbulb on a Python function lists the llmgenie actions', async () => {
  await ready();
  await clickLine(editor, 'return a + b');
  const widget = await openCodeActions(page, 'llmgenie: Explain');
  const text = await widget.innerText();
  for (const title of ['llmgenie: Explain', 'llmgenie: Document', 'llmgenie: Write tests', 'llmgenie: Refactor']) {
    expect(text).toContain(title);
  }
  await shot(page, '2-lightbulb-actions');
  await page.keyboard.press('Escape');
});

test('Explain streams an answer into the chat panel', async () => {
  test.skip(!env.hasModelServer, 'tests/support/model_server.py is not available');
  await ready();
  await model.reset();
  const explanation = '`add` returns the sum of its two arguments.\n\n```python\nadd(2, 3)  # 5\n```\n';
  const report = crewReport(explanation);
  // the crew's final answer arrives slowly, in pieces, like a real model's
  const chunks = report.match(/.{1,12}/gs) ?? [report];
  await model.script({ replies: [{ kind: 'stream', chunks, chunk_delay: 0.15 }], default: { kind: 'text', text: report } });
  await clickLine(editor, 'return a + b');
  await runCodeAction(page, 'llmgenie: Explain');

  const answer = await lastAnswer(page);
  await expect(answer.locator('header')).toContainText('Explain', { timeout: 60_000 });
  // while the crew works the panel shows the run is live (activity line / streamed text)
  await expect(answer).toHaveClass(/status-(pending|streaming)/);
  await shot(page, '3a-explain-streaming');
  await expect(answer).toHaveClass(/status-done/, { timeout: 120_000 });
  await expect(answer.locator('.body')).toContainText('returns the sum of its two arguments');
  // the answer's code block is highlighted and has Copy / Insert / Apply
  const block = answer.locator('.code-block').first();
  await expect(block.locator('.hljs-number').first()).toBeVisible();
  await expect(block.locator('button.code-action')).toHaveText(['Copy', 'Insert', 'Apply']);
  await shot(page, '3b-explain-done');
  const chats = (await model.requests()).filter((r) => r.path.endsWith('/chat/completions'));
  expect(chats.length).toBeGreaterThan(0);
  // the thumbs under the answer: the server records the verdict, the panel says so
  await answer.locator('button.thumb[data-verdict="helpful"]').click();
  await expect(answer.locator('.feedback-given')).toHaveText('Thanks: marked helpful', { timeout: 30_000 });
  await shot(page, '3c-explain-rated');
});

test('Document produces a reviewable edit that applies', async () => {
  test.skip(!env.hasModelServer, 'tests/support/model_server.py is not available');
  await ready();
  await model.reset();
  const signature = 'def scale(values: Iterable[float], factor: float) -> list[float]:\n';
  const edit = {
    path: 'calc/ops.py',
    old_text: signature,
    new_text: `${signature}    """Return every value multiplied by \`factor\`."""\n`,
    description: 'docstring for scale',
  };
  await model.script({ default: { kind: 'text', text: crewReport('Added a docstring to `scale`.', [edit]) } });
  await clickLine(editor, 'def scale');
  await runCodeAction(page, 'llmgenie: Document');
  // the run shows up in the chat panel while the crew works
  const run = await lastAnswer(page);
  await expect(run.locator('header')).toContainText('Document', { timeout: 60_000 });

  // the edit is not applied silently: it waits in the refactor preview
  const preview = page.locator('.bulk-edit-panel').first();
  await preview.waitFor({ timeout: 120_000 });
  await shot(page, '4a-document-preview');
  expect(fs.readFileSync(path.join(env.workspace, 'calc/ops.py'), 'utf8')).not.toContain('multiplied by');
  await expect(preview).toContainText('ops.py');
  await expect(preview).toContainText('Return every value multiplied by');
  // edits that need confirmation start unticked: tick the file, then Apply
  const fileRow = preview.getByRole('checkbox', { name: /ops\.py/ }).first();
  const fileBox = fileRow.locator('.edit-checkbox').first();
  await fileBox.click();
  await expect(fileBox).toHaveAttribute('aria-checked', 'true');
  await shot(page, '4b-document-ticked');
  await preview.locator('.monaco-button', { hasText: /^Apply$/ }).first().click();
  await expect(editor.locator('.view-lines')).toContainText('Return every value multiplied by', { timeout: 30_000 });
  await shot(page, '4c-document-applied');
  // a user saves; the file on disk has the docstring
  await page.keyboard.press('Control+S');
  await expect
    .poll(() => fs.readFileSync(path.join(env.workspace, 'calc/ops.py'), 'utf8'), { timeout: 10_000 })
    .toContain('    """Return every value multiplied by `factor`."""');
});

test('a slash command in the chat runs a crew on the editor the user came from', async () => {
  test.skip(!env.hasModelServer, 'tests/support/model_server.py is not available');
  await ready();
  await model.reset();
  const report = crewReport('`add` adds its two arguments and returns the result.');
  await model.script({ replies: [{ kind: 'text', text: report }], default: { kind: 'text', text: report } });
  await clickLine(editor, 'return a + b');
  await runCommand(page, 'llmgenie: Chat');
  const chat = chatFrame(page);
  const input = chat.locator('#prompt');
  await expect(input).toBeVisible();
  await input.fill('/explain');
  await input.press('Enter');
  const answer = await lastAnswer(page);
  await expect(answer.locator('header')).toContainText('Explain', { timeout: 60_000 });
  await expect(answer).toHaveClass(/status-done/, { timeout: 120_000 });
  await expect(answer.locator('.body')).toContainText('adds its two arguments');
  await shot(page, '6-slash-explain');
  const sent = (await model.requests()).filter((r) => r.path.endsWith('/chat/completions'));
  expect(JSON.stringify(sent[0]?.body ?? '')).toContain('return a + b');
});

test('Stop cancels a slow run', async () => {
  test.skip(!env.hasModelServer, 'tests/support/model_server.py is not available');
  await ready();
  await model.reset();
  const chunks = Array.from({ length: 60 }, (_, i) => `word${i} `);
  await model.script({ replies: [{ kind: 'stream', chunks, chunk_delay: 0.5 }], default: { kind: 'text', text: 'late' } });
  // open the panel from the command palette, as a user would
  await runCommand(page, 'llmgenie: Chat');
  const chat = chatFrame(page);
  const input = chat.locator('#prompt');
  await expect(input).toBeVisible();
  await input.fill('Walk me through mean() slowly.');
  await input.press('Enter');
  const answer = await lastAnswer(page);
  await expect(answer).toContainText('word1', { timeout: 60_000 });
  const stop = chat.locator('#stop');
  await expect(stop).toBeVisible();
  await shot(page, '5a-stop-before');
  await stop.click();
  await expect(answer).toHaveClass(/status-cancelled/, { timeout: 30_000 });
  await expect(stop).toBeHidden();
  await shot(page, '5b-stop-after');
  const text = await answer.locator('.body').innerText();
  expect(text).not.toContain('word59');
  // the model call itself was abandoned, not just hidden
  await expect.poll(async () => (await model.requests()).some((r) => r.disconnected), { timeout: 20_000 }).toBe(true);
});

test('Apply merges a chat code block into the function it redefines', async () => {
  test.skip(!env.hasModelServer, 'tests/support/model_server.py is not available');
  await ready();
  await model.reset();
  const answerText = 'Return 0 for an empty list:\n\n```python\ndef mean(values: list[float]) -> float:\n    if not values:\n        return 0.0\n    return sum(values) / len(values)\n```\n';
  await model.script({ replies: [{ kind: 'text', text: answerText }], default: { kind: 'text', text: answerText } });
  await clickLine(editor, 'return a + b');
  await runCommand(page, 'llmgenie: Chat');
  const chat = chatFrame(page);
  const input = chat.locator('#prompt');
  await input.fill('Make mean() safe for an empty list.');
  await input.press('Enter');
  const answer = await lastAnswer(page);
  await expect(answer).toHaveClass(/status-done/, { timeout: 120_000 });
  await answer.locator('.code-block button.code-action', { hasText: 'Apply' }).first().click();
  // not the whole file: only mean() changes, through the refactor preview
  const preview = page.locator('.bulk-edit-panel').first();
  await expect(preview).toContainText('ops.py', { timeout: 30_000 });
  await shot(page, '7a-apply-merge-preview');
  const fileBox = preview.getByRole('checkbox', { name: /ops\.py/ }).first().locator('.edit-checkbox').first();
  await fileBox.click();
  await expect(fileBox).toHaveAttribute('aria-checked', 'true');
  await preview.locator('.monaco-button', { hasText: /^Apply$/ }).first().click();
  await expect(editor.locator('.view-lines')).toContainText('if not values:', { timeout: 30_000 });
  await page.keyboard.press('Control+S');
  await expect.poll(() => fs.readFileSync(path.join(env.workspace, 'calc/ops.py'), 'utf8'), { timeout: 10_000 }).toContain('        return 0.0\n    return sum(values) / len(values)');
  const saved = fs.readFileSync(path.join(env.workspace, 'calc/ops.py'), 'utf8');
  expect(saved).toContain('def add(a: float, b: float) -> float:\n    return a + b');
  expect(saved).toContain('def scale(');
  expect(saved).not.toContain('total = add(total, v)');
  await shot(page, '7b-apply-merged');
});

test('@-mentions complete from the workspace and attach the file to the question', async () => {
  test.skip(!env.hasModelServer, 'tests/support/model_server.py is not available');
  await ready();
  await model.reset();
  await model.script({ replies: [{ kind: 'text', text: '`summary` formats the mean and the doubled values.' }], default: { kind: 'text', text: 'late' } });
  await runCommand(page, 'llmgenie: Chat');
  const chat = chatFrame(page);
  const input = chat.locator('#prompt');
  // the command puts the cursor in the chat input
  await expect(input).toBeFocused({ timeout: 30_000 });
  await input.fill('');
  await input.pressSequentially('What does @fi');
  const popup = chat.locator('#mentions');
  await expect(popup).toBeVisible();
  await expect(popup.locator('li').first()).toContainText('@file');
  await input.press('Enter');
  await expect(input).toHaveValue('What does @file:');
  await input.pressSequentially('report');
  await expect(popup.locator('li').first()).toContainText('report.py', { timeout: 30_000 });
  await expect(popup).toBeVisible();
  await shot(page, '8a-mention-completion');
  await input.press('Enter');
  await expect(input).toHaveValue('What does @file:calc/report.py ');
  await input.pressSequentially('do?');
  await expect(popup).toBeHidden();
  await input.press('Enter');
  const question = chat.locator('article.msg.user').last();
  await expect(question.locator('.chip')).toHaveText(['report.py'], { timeout: 30_000 });
  const answer = await lastAnswer(page);
  await expect(answer).toHaveClass(/status-done/, { timeout: 120_000 });
  await expect(answer.locator('.body')).toContainText('formats the mean');
  await shot(page, '8b-mention-attached');
  const sent = (await model.requests()).filter((r) => r.path.endsWith('/chat/completions'));
  expect(JSON.stringify(sent[0]?.body ?? '')).toContain('One line: the mean of the values and the values doubled.');
});

test('@knowledge attaches the knowledge base guidance on a subject', async () => {
  test.skip(!env.hasModelServer, 'tests/support/model_server.py is not available');
  await ready();
  await model.reset();
  await model.script({ replies: [{ kind: 'text', text: 'Add a non-root USER to the image.' }], default: { kind: 'text', text: 'late' } });
  await runCommand(page, 'llmgenie: Chat');
  const chat = chatFrame(page);
  const input = chat.locator('#prompt');
  // the command puts the cursor in the chat input
  await expect(input).toBeFocused({ timeout: 30_000 });
  await input.fill('');
  await input.pressSequentially('How should my image run? @knowledge:non-root');
  const popup = chat.locator('#mentions');
  // the knowledge base is indexed on first use; its passages are offered by heading
  const passage = popup.locator('li', { hasText: 'Dockerfile best practices' }).first();
  await expect(passage).toBeVisible({ timeout: 60_000 });
  await shot(page, '8c-knowledge-completion');
  await passage.click();
  await expect(input).toHaveValue('How should my image run? @knowledge:dockerfile-best-practices ');
  await input.press('Enter');
  const question = chat.locator('article.msg.user').last();
  await expect(question.locator('.chip')).toHaveText(['knowledge: dockerfile best practices'], { timeout: 30_000 });
  const answer = await lastAnswer(page);
  await expect(answer).toHaveClass(/status-done/, { timeout: 120_000 });
  await shot(page, '8d-knowledge-attached');
  const sent = (await model.requests()).filter((r) => r.path.endsWith('/chat/completions'));
  expect(JSON.stringify(sent[0]?.body ?? '')).toContain('[knowledge base] devops/container-images.md');
});

test('the model picker switches the chat to another model without a restart', async () => {
  test.skip(!env.hasModelServer, 'tests/support/model_server.py is not available');
  await ready();
  await model.reset();
  await model.script({ replies: [{ kind: 'text', text: 'Answered by the picked model.' }], default: { kind: 'text', text: 'late' } });
  await runCommand(page, 'llmgenie: Chat');
  const chat = chatFrame(page);
  const button = chat.locator('#model');
  await expect(button).toHaveText('openai/scripted');
  await expect(button).toHaveAttribute('title', /configured model/);
  await button.click();
  const quick = page.locator('.quick-input-widget');
  const other = quick.locator('.monaco-list-row', { hasText: 'Other model…' }).first();
  await expect(other).toBeVisible();
  await shot(page, '9a-model-picker');
  await other.click();
  await quick.locator('input[placeholder="openai/gpt-4o-mini"]').fill('openai/picked');
  await page.keyboard.press('Enter');
  await expect(button).toHaveText('openai/picked');
  const input = chat.locator('#prompt');
  await input.fill('Which model are you?');
  await input.press('Enter');
  const answer = await lastAnswer(page);
  await expect(answer).toHaveClass(/status-done/, { timeout: 120_000 });
  await expect(answer.locator('footer .model')).toHaveText('openai/picked');
  await shot(page, '9b-model-picked');
  const sent = (await model.requests()).filter((r) => r.path.endsWith('/chat/completions'));
  expect(sent.map((r) => r.model)).toEqual(['picked']);
  // back to the configured model
  await button.click();
  await quick.locator('.monaco-list-row', { hasText: 'Configured model' }).first().click();
  await expect(button).toHaveText('openai/scripted');
});

test('Ctrl+I on a selection proposes a diff that can be discarded', async () => {
  test.skip(!env.hasModelServer, 'tests/support/model_server.py is not available');
  await ready();
  await model.reset();
  const reply = 'Documented:\n\n```python\ndef add(a: float, b: float) -> float:\n    """Sum of a and b."""\n    return a + b\n```\n';
  await model.script({ replies: [{ kind: 'text', text: reply }], default: { kind: 'text', text: reply } });
  await clickLine(editor, 'def add');
  await page.keyboard.press('Home');
  await page.keyboard.press('Shift+ArrowDown');
  await page.keyboard.press('Shift+ArrowDown');
  await page.keyboard.press('Control+I');
  const quick = page.locator('.quick-input-widget');
  await expect(quick).toContainText('llmgenie: edit calc/ops.py:4-5');
  await quick.locator('input').fill('add a docstring');
  await page.keyboard.press('Enter');
  const preview = page.locator('.bulk-edit-panel').first();
  await expect(preview).toContainText('Sum of a and b.', { timeout: 120_000 });
  await shot(page, '10a-inline-edit-diff');
  await preview.locator('.monaco-button', { hasText: /^Discard$/ }).first().click();
  await expect(preview).toBeHidden({ timeout: 30_000 });
  await expect(editor.locator('.view-lines')).not.toContainText('Sum of a and b.');
  // the exchange is in the chat
  const question = chatFrame(page).locator('article.msg.user').last();
  await expect(question).toContainText('add a docstring');
  await shot(page, '10b-inline-edit-discarded');
});

/** A crew's final answer as the agents expect it from the model (agents/results.py CrewReport). */
function crewReport(message: string, edits: unknown[] = []): string {
  return JSON.stringify({ message, edits, findings: [] });
}

test('Get Started opens the walkthrough, whose first step configures a model', async () => {
  await ready();
  await runCommand(page, 'llmgenie: Get Started');
  const walkthrough = page.locator('.gettingStartedContainer');
  await expect(walkthrough).toContainText('Get started with llmgenie', { timeout: 30_000 });
  await expect(walkthrough).toContainText('Choose a model');
  await shot(page, '11a-walkthrough');
  await walkthrough.getByText('Configure a Model…', { exact: true }).first().click();
  // the same picker as the "Configure a model…" code action, fed by the server
  const picker = page.locator('.quick-input-widget');
  await expect(picker).toContainText('Enter a model name…', { timeout: 30_000 });
  await expect(picker).toContainText('Set API key…');
  await shot(page, '11b-walkthrough-configure-model');
  await page.keyboard.press('Escape');
  await expect(picker).toBeHidden();
  await runCommand(page, 'View: Close Editor');
  await expect(walkthrough).toBeHidden({ timeout: 30_000 });
});

test('a crashed server is restarted with backoff, and the user is told', async () => {
  await ready();
  const server = serverPids();
  expect(server, 'the llmgenie server process of this run').toHaveLength(1);
  process.kill(server[0] as number, 'SIGKILL');
  const toast = page.locator('.notification-toast', { hasText: 'stopped unexpectedly' }).first();
  await expect(toast).toBeVisible({ timeout: 30_000 });
  await expect(toast).toContainText('restarting in 1 s (attempt 1)');
  await shot(page, '6a-crash-notified');
  await expect.poll(() => statusText(page), { timeout: 120_000 }).toMatch(/codicon-check.*scripted|scripted.*codicon-check/);
  const restarted = serverPids();
  expect(restarted).toHaveLength(1);
  expect(restarted[0]).not.toBe(server[0]);
  await shot(page, '6b-crash-restarted');
});

/** PIDs of `llmgenie serve --stdio` processes started for THIS run (by their cache dir env). */
function serverPids(): number[] {
  const marker = `LLMGENIE_CACHE_DIR=${path.resolve(env.workspace, '..', 'llmgenie-cache')}`;
  const pids: number[] = [];
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) {
      continue;
    }
    try {
      const cmd = fs.readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0').join(' ');
      if (!/-m llmgenie serve --stdio/.test(cmd)) {
        continue;
      }
      if (fs.readFileSync(`/proc/${entry}/environ`, 'utf8').split('\0').includes(marker)) {
        pids.push(Number(entry));
      }
    } catch {
      // the process ended while we looked
    }
  }
  return pids;
}
