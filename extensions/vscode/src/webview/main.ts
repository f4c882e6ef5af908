/**
 * Chat webview script (bundled for the browser by esbuild, with markdown-it and highlight.js).
 * Renders the message snapshots the extension host sends; user input goes back as messages.
 */
import type { ChatMessage } from '../core/chatState';
import { escapeHtml, renderMarkdown } from '../core/markdown';
import { completeMention, kindItems, mentionAt, type MentionItem, type MentionQuery } from '../core/mentions';

interface VsCodeApi {
  postMessage(message: unknown): void;
}
declare function acquireVsCodeApi(): VsCodeApi;

type ToWebview =
  | { type: 'state'; messages: ChatMessage[]; busy: boolean }
  | { type: 'upsert'; message: ChatMessage }
  | { type: 'busy'; busy: boolean }
  | { type: 'focusInput' }
  | { type: 'completions'; seq: number; items: MentionItem[] }
  | { type: 'model'; label: string; title: string; picked: boolean };

const vscode = acquireVsCodeApi();
const list = document.getElementById('messages') as HTMLElement;
const empty = document.getElementById('empty') as HTMLElement;
const form = document.getElementById('composer') as HTMLFormElement;
const input = document.getElementById('prompt') as HTMLTextAreaElement;
const stop = document.getElementById('stop') as HTMLButtonElement;
const popup = document.getElementById('mentions') as HTMLUListElement;
const modelButton = document.getElementById('model') as HTMLButtonElement;

const messages = new Map<string, ChatMessage>();
const pendingRender = new Set<string>();
let frame = 0;

const STATUS_TEXT: Record<ChatMessage['status'], string> = {
  pending: 'Thinking…',
  streaming: '',
  done: '',
  cancelled: 'Stopped',
  error: 'Failed',
};

function chipsHtml(m: ChatMessage): string {
  if (m.context.length === 0) {
    return '';
  }
  const chips = m.context
    .slice(0, 24)
    .map(
      (c) =>
        `<button class="chip" data-path="${escapeHtml(c.path)}" data-line="${c.startLine ?? ''}" title="${escapeHtml(c.path || c.label)}">${escapeHtml(c.label)}</button>`,
    )
    .join('');
  return `<div class="chips" aria-label="Context used">${chips}</div>`;
}

function footerHtml(m: ChatMessage): string {
  const bits: string[] = [];
  if (m.status === 'error' && m.error) {
    bits.push(`<span class="error-text">${escapeHtml(m.error)}</span>`);
  } else if (STATUS_TEXT[m.status]) {
    bits.push(`<span class="status-text">${STATUS_TEXT[m.status]}</span>`);
  }
  if (m.edits) {
    bits.push(`<span>${m.edits} edit${m.edits === 1 ? '' : 's'} proposed</span>`);
  }
  if (m.findings) {
    bits.push(`<span>${m.findings} finding${m.findings === 1 ? '' : 's'} in Problems</span>`);
  }
  if (m.model) {
    bits.push(`<span class="model">${escapeHtml(m.model)}</span>`);
  }
  if (m.role === 'assistant' && m.status === 'done' && m.runId) {
    bits.push(feedbackHtml(m));
  }
  return bits.length ? `<footer>${bits.join(' · ')}</footer>` : '';
}

/** The thumbs under a finished answer; once rated, what the user said. */
function feedbackHtml(m: ChatMessage): string {
  if (m.feedback) {
    return `<span class="feedback-given">Thanks: marked ${m.feedback === 'helpful' ? 'helpful' : 'not helpful'}</span>`;
  }
  return (
    `<span class="feedback">` +
    `<button class="thumb" data-verdict="helpful" title="Helpful" aria-label="Helpful answer">👍</button>` +
    `<button class="thumb" data-verdict="unhelpful" title="Not helpful" aria-label="Unhelpful answer">👎</button>` +
    `</span>`
  );
}

function messageHtml(m: ChatMessage): string {
  const who = m.role === 'user' ? 'You' : 'llmgenie';
  const title = m.title ? ` — ${escapeHtml(m.title)}` : '';
  const body = m.role === 'user' ? `<p>${escapeHtml(m.text).replace(/\n/g, '<br>')}</p>` : renderMarkdown(m.text);
  const activity = m.activity && (m.status === 'pending' || m.status === 'streaming') ? `<div class="activity">${escapeHtml(m.activity)}</div>` : '';
  return `<header>${who}${title}</header><div class="body markdown">${body}</div>${activity}${chipsHtml(m)}${footerHtml(m)}`;
}

function renderOne(id: string): void {
  const m = messages.get(id);
  if (!m) {
    return;
  }
  let el = document.getElementById(`msg-${id}`);
  if (!el) {
    el = document.createElement('article');
    el.id = `msg-${id}`;
    el.dataset.id = id;
    list.appendChild(el);
  }
  el.className = `msg ${m.role} status-${m.status}`;
  el.innerHTML = messageHtml(m);
}

function flush(): void {
  frame = 0;
  const nearBottom = list.scrollHeight - list.scrollTop - list.clientHeight < 80;
  for (const id of pendingRender) {
    renderOne(id);
  }
  pendingRender.clear();
  empty.hidden = messages.size > 0;
  if (nearBottom) {
    list.scrollTop = list.scrollHeight;
  }
}

function schedule(id: string): void {
  pendingRender.add(id);
  if (!frame) {
    frame = requestAnimationFrame(flush);
  }
}

function setBusy(busy: boolean): void {
  stop.hidden = !busy;
}

window.addEventListener('message', (event: MessageEvent<ToWebview>) => {
  const msg = event.data;
  switch (msg.type) {
    case 'state':
      messages.clear();
      list.innerHTML = '';
      for (const m of msg.messages) {
        messages.set(m.id, m);
        pendingRender.add(m.id);
      }
      setBusy(msg.busy);
      flush();
      list.scrollTop = list.scrollHeight;
      break;
    case 'upsert':
      messages.set(msg.message.id, msg.message);
      schedule(msg.message.id);
      break;
    case 'busy':
      setBusy(msg.busy);
      break;
    case 'focusInput':
      input.focus();
      break;
    case 'model':
      modelButton.textContent = msg.label;
      modelButton.title = msg.title;
      modelButton.classList.toggle('picked', msg.picked);
      break;
    case 'completions':
      if (msg.seq === completion.seq && completion.query) {
        showItems(msg.items);
      }
      break;
  }
});

// @-mention completion: the kinds are known here; files, folders and symbols come from the host.
const completion: { seq: number; query?: MentionQuery; items: MentionItem[]; active: number } = { seq: 0, items: [], active: 0 };

function hidePopup(): void {
  popup.hidden = true;
  completion.query = undefined;
  completion.items = [];
}

function showItems(items: MentionItem[]): void {
  completion.items = items;
  completion.active = 0;
  if (items.length === 0) {
    popup.hidden = true;
    return;
  }
  popup.innerHTML = items
    .map(
      (it, i) =>
        `<li role="option" id="mention-${i}" data-index="${i}" aria-selected="${i === 0}"><span class="label">${escapeHtml(it.label)}</span>${it.detail ? ` <span class="detail">${escapeHtml(it.detail)}</span>` : ''}</li>`,
    )
    .join('');
  popup.hidden = false;
}

function moveActive(delta: number): void {
  const n = completion.items.length;
  completion.active = (completion.active + delta + n) % n;
  popup.querySelectorAll('li').forEach((li, i) => li.setAttribute('aria-selected', String(i === completion.active)));
  popup.querySelector(`#mention-${completion.active}`)?.scrollIntoView({ block: 'nearest' });
}

function updateCompletion(): void {
  const q = mentionAt(input.value, input.selectionStart ?? input.value.length);
  completion.seq++;
  completion.query = q;
  if (!q) {
    hidePopup();
  } else if (!q.kind) {
    showItems(kindItems(q.query));
  } else {
    vscode.postMessage({ type: 'complete', seq: completion.seq, kind: q.kind, query: q.query });
  }
}

function accept(index: number): void {
  const item = completion.items[index];
  const q = completion.query;
  if (!item || !q) {
    return;
  }
  const next = completeMention(input.value, q, item.insert);
  input.value = next.text;
  input.setSelectionRange(next.cursor, next.cursor);
  input.focus();
  hidePopup();
  updateCompletion(); // after `@file:` the files come next
}

input.addEventListener('input', updateCompletion);
input.addEventListener('click', updateCompletion);
// clicking elsewhere closes the list; a blur that the input recovers from at once (the view
// taking focus) does not
input.addEventListener('blur', () =>
  setTimeout(() => {
    if (document.activeElement !== input) {
      hidePopup();
    }
  }, 150),
);
popup.addEventListener('mousedown', (e) => {
  const li = (e.target as HTMLElement).closest('li');
  if (li) {
    e.preventDefault();
    accept(Number(li.dataset.index));
  }
});

form.addEventListener('submit', (e) => {
  e.preventDefault();
  const prompt = input.value.trim();
  if (prompt) {
    vscode.postMessage({ type: 'ask', prompt });
    input.value = '';
    hidePopup();
  }
});
input.addEventListener('keydown', (e) => {
  if (!popup.hidden && completion.items.length > 0) {
    if (e.key === 'ArrowDown' || e.key === 'ArrowUp') {
      e.preventDefault();
      moveActive(e.key === 'ArrowDown' ? 1 : -1);
      return;
    }
    if ((e.key === 'Enter' || e.key === 'Tab') && !e.shiftKey && !e.isComposing) {
      e.preventDefault();
      accept(completion.active);
      return;
    }
    if (e.key === 'Escape') {
      e.preventDefault();
      hidePopup();
      return;
    }
  }
  if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) {
    e.preventDefault();
    form.requestSubmit();
  }
});
stop.addEventListener('click', () => vscode.postMessage({ type: 'stop' }));
modelButton.addEventListener('click', () => vscode.postMessage({ type: 'pickModel' }));

list.addEventListener('click', (e) => {
  const target = e.target as HTMLElement;
  const button = target.closest('button');
  const article = target.closest('article');
  if (button?.classList.contains('code-action') && article) {
    vscode.postMessage({
      type: 'codeAction',
      action: button.dataset.action,
      messageId: article.getAttribute('data-id'),
      index: Number(button.dataset.index),
    });
    if (button.dataset.action === 'copy') {
      button.textContent = 'Copied';
      setTimeout(() => (button.textContent = 'Copy'), 1200);
    }
    return;
  }
  if (button?.classList.contains('thumb') && article) {
    button.disabled = true;
    vscode.postMessage({ type: 'feedback', messageId: article.getAttribute('data-id'), verdict: button.dataset.verdict });
    return;
  }
  if (button?.classList.contains('chip')) {
    const line = Number(button.dataset.line);
    vscode.postMessage({ type: 'openChip', path: button.dataset.path ?? '', line: Number.isFinite(line) && line > 0 ? line : undefined });
    return;
  }
  const link = target.closest('a');
  if (link) {
    e.preventDefault();
    vscode.postMessage({ type: 'openLink', href: link.getAttribute('href') ?? '' });
  }
});

vscode.postMessage({ type: 'ready' });
