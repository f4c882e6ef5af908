/**
 * @-mentions in the chat input: `@file:src/billing.py`, `@folder:src`, `@symbol:compute_tax`,
 * `@knowledge:non-root-container` attach that file, folder listing, definition or the
 * knowledge base's passages for those words to the question. Pure: the webview uses it
 * to know what is being typed, the extension host to rank completions and to build the
 * prompt with the attachments.
 */

export type MentionKind = 'file' | 'folder' | 'symbol' | 'knowledge';

export const MENTION_KINDS: ReadonlyArray<{ kind: MentionKind; detail: string }> = [
  { kind: 'file', detail: 'attach a file' },
  { kind: 'folder', detail: "attach a folder's file list" },
  { kind: 'symbol', detail: 'attach a function or class' },
  { kind: 'knowledge', detail: "attach the knowledge base's guidance on a subject" },
];

const KINDS = new Set<string>(MENTION_KINDS.map((k) => k.kind));

export interface Mention {
  kind: MentionKind;
  value: string;
  /** Offsets of the whole `@kind:value` in the text. */
  start: number;
  end: number;
}

/** Trailing punctuation that ends a sentence, not a path: "see @file:a.py." */
const TRAILING = /[.,;:!?)\]}'"]+$/;

/** The complete mentions in `text`, in order (unknown kinds and empty values are text). */
export function parseMentions(text: string): Mention[] {
  const out: Mention[] = [];
  const re = /(^|\s)@([a-z]+):(\S+)/g;
  for (let m = re.exec(text); m; m = re.exec(text)) {
    const kind = m[2] ?? '';
    const value = (m[3] ?? '').replace(TRAILING, '');
    if (!KINDS.has(kind) || !value) {
      continue;
    }
    const start = m.index + (m[1] ?? '').length;
    out.push({ kind: kind as MentionKind, value, start, end: start + 1 + kind.length + 1 + value.length });
  }
  return out;
}

/** The mention being typed at `cursor`: `@fi` (a kind to choose) or `@file:bil` (a value). */
export interface MentionQuery {
  start: number;
  end: number;
  kind?: MentionKind;
  query: string;
}

export function mentionAt(text: string, cursor: number): MentionQuery | undefined {
  const before = text.slice(0, cursor);
  const m = /(^|\s)@([a-z]*)(?::(\S*))?$/.exec(before);
  if (!m) {
    return undefined;
  }
  const start = m.index + (m[1] ?? '').length;
  // the token goes on after the cursor up to the next space
  const after = /^\S*/.exec(text.slice(cursor))?.[0] ?? '';
  const end = cursor + after.length;
  const word = m[2] ?? '';
  if (m[3] === undefined) {
    return { start, end, query: word };
  }
  if (!KINDS.has(word)) {
    return undefined;
  }
  return { start, end, kind: word as MentionKind, query: m[3] };
}

/** `text` with the mention at [start, end) replaced by `@kind:value ` and where the cursor goes. */
export function completeMention(text: string, q: Pick<MentionQuery, 'start' | 'end'>, insert: string): { text: string; cursor: number } {
  const head = text.slice(0, q.start) + insert;
  const tail = text.slice(q.end);
  if (insert.endsWith(':')) {
    return { text: head + tail, cursor: head.length }; // go on typing the value
  }
  const spaced = tail.startsWith(' ') ? tail : ` ${tail}`;
  return { text: head + spaced, cursor: head.length + 1 };
}

export interface MentionItem {
  label: string;
  detail?: string;
  /** What replaces the mention being typed: `@file:src/a.py`, or `@file:` to go on typing. */
  insert: string;
}

/** The kinds matching `@que…`. */
export function kindItems(query: string): MentionItem[] {
  return MENTION_KINDS.filter((k) => k.kind.startsWith(query.toLowerCase())).map((k) => ({ label: `@${k.kind}`, detail: k.detail, insert: `@${k.kind}:` }));
}

/** How well `path` matches `query` (higher is better; 0: not at all): the name's start, the
 * name, a path segment, anywhere, the letters in order. */
export function pathScore(path: string, query: string): number {
  if (!query) return 1;
  const p = path.toLowerCase();
  const q = query.toLowerCase();
  const name = p.slice(p.lastIndexOf('/') + 1);
  if (name.startsWith(q)) return 5 - name.length / 1000;
  if (name.includes(q)) return 4 - name.length / 1000;
  if (p.startsWith(q) || p.includes(`/${q}`)) return 3 - p.length / 1000;
  if (p.includes(q)) return 2 - p.length / 1000;
  let i = 0;
  for (const ch of p) {
    if (ch === q[i]) i++;
    if (i === q.length) return 1 - p.length / 1000;
  }
  return 0;
}

/** The `limit` best of `paths` for `query`, best first (ties: shorter, then alphabetical). */
export function rankPaths(paths: Iterable<string>, query: string, limit = 20): string[] {
  const scored: Array<[string, number]> = [];
  for (const p of paths) {
    const s = pathScore(p, query);
    if (s > 0) scored.push([p, s]);
  }
  scored.sort((a, b) => b[1] - a[1] || a[0].length - b[0].length || a[0].localeCompare(b[0]));
  return scored.slice(0, limit).map(([p]) => p);
}

/** Every folder that holds one of `files` (workspace-relative, `/`-separated). */
export function foldersOf(files: Iterable<string>): string[] {
  const out = new Set<string>();
  for (const f of files) {
    const parts = f.split('/');
    for (let i = 1; i < parts.length; i++) out.add(parts.slice(0, i).join('/'));
  }
  return [...out].sort();
}

export function fileItems(paths: Iterable<string>, query: string, kind: 'file' | 'folder', limit = 20): MentionItem[] {
  return rankPaths(paths, query, limit).map((p) => {
    const slash = p.lastIndexOf('/');
    return { label: slash >= 0 ? p.slice(slash + 1) : p, detail: slash >= 0 ? p.slice(0, slash) : '', insert: `@${kind}:${p}` };
  });
}

/** A symbol the server's search found. */
export interface SymbolHit {
  symbol?: string | null;
  path: string;
  start_line: number;
}

/** Symbol completions from search hits: names containing the query, name starts first, one per name and file. */
export function symbolItems(hits: ReadonlyArray<SymbolHit>, query: string, limit = 20): MentionItem[] {
  const q = query.toLowerCase();
  const seen = new Set<string>();
  const found: Array<{ name: string; hit: SymbolHit; score: number }> = [];
  for (const h of hits) {
    const name = h.symbol ?? '';
    const short = name.slice(name.lastIndexOf('.') + 1).toLowerCase();
    if (!name || !name.toLowerCase().includes(q) || seen.has(`${name}\0${h.path}`)) continue;
    seen.add(`${name}\0${h.path}`);
    found.push({ name, hit: h, score: short.startsWith(q) ? 2 : 1 });
  }
  found.sort((a, b) => b.score - a.score);
  return found.slice(0, limit).map(({ name, hit }) => ({ label: name, detail: `${hit.path}:${hit.start_line}`, insert: `@symbol:${name}` }));
}

/** A passage of llmgenie/knowledge. */
export interface KnowledgeHit {
  source: 'knowledge' | 'workspace';
  path: string;
  start_line: number;
  end_line: number;
  heading?: string | null;
  text: string;
}

/** The specialists' topics, offered after `@knowledge:` before anything is typed. */
export const KNOWLEDGE_TOPICS = ['devops', 'security', 'performance', 'documentation'] as const;

/** Words as a mention value: `Run as a non-root user` -> `run-as-a-non-root-user`. */
export function slug(words: string): string {
  return words
    .toLowerCase()
    .replace(/[^\p{L}\p{N}]+/gu, '-')
    .replace(/^-+|-+$/g, '');
}

/** The search words of a `@knowledge:` value: `non-root_container` -> `non root container`. */
export function knowledgeQuery(value: string): string {
  return value.replace(/[-_]+/g, ' ').trim();
}

/** Completions for `@knowledge:que…`: the topics, else the passages found, by heading. */
export function knowledgeItems(hits: ReadonlyArray<KnowledgeHit>, query: string, limit = 12): MentionItem[] {
  if (!query) {
    return KNOWLEDGE_TOPICS.map((t) => ({ label: t, detail: 'knowledge base', insert: `@knowledge:${t}` }));
  }
  const seen = new Set<string>();
  const items: MentionItem[] = [];
  for (const h of hits) {
    const title = h.heading?.trim() || h.path;
    const insert = `@knowledge:${slug(title) || slug(query)}`;
    if (seen.has(insert)) continue;
    seen.add(insert);
    items.push({ label: title, detail: `${h.source === 'knowledge' ? 'knowledge' : 'docs'} · ${h.path}:${h.start_line}`, insert });
  }
  return items.slice(0, limit);
}

/** The passages of a @knowledge mention as one attachment text. */
export function knowledgeText(hits: ReadonlyArray<KnowledgeHit>): string {
  return hits
    .map((h) => {
      const origin = h.source === 'knowledge' ? 'knowledge base' : 'workspace';
      const title = h.heading ? ` — ${h.heading}` : '';
      return `[${origin}] ${h.path}:${h.start_line}-${h.end_line}${title}\n${h.text}`;
    })
    .join('\n\n');
}

/** Content attached to a question. */
export interface Attachment {
  kind: MentionKind;
  /** What was mentioned: the path or the symbol name. */
  name: string;
  /** Where it is, for the chip: a workspace-relative path. */
  path: string;
  startLine?: number;
  text: string;
  /** Could not be found: the model is told so. */
  missing?: boolean;
}

/** The chip an attachment shows on the question. */
export function chipLabel(a: Attachment): string {
  switch (a.kind) {
    case 'symbol':
      return a.name;
    case 'knowledge':
      return `knowledge: ${knowledgeQuery(a.name)}`;
    default:
      return a.path.split('/').pop() || a.path;
  }
}

/** Characters of attached content per question (the rest is cut, with a note). */
export const ATTACHMENT_BUDGET = 60_000;

function fence(text: string): string {
  let ticks = '```';
  while (text.includes(ticks)) ticks += '`';
  return ticks;
}

/** The prompt sent to the server: the question, then each attachment (within the budget). */
export function promptWithAttachments(prompt: string, attachments: ReadonlyArray<Attachment>, budget = ATTACHMENT_BUDGET): string {
  if (attachments.length === 0) {
    return prompt;
  }
  const parts = [prompt, '', 'Attached by the user:'];
  let left = budget;
  for (const a of attachments) {
    const where = a.startLine ? `${a.path}:${a.startLine}` : a.path;
    const title =
      a.kind === 'symbol' ? `symbol ${a.name} (${where})` : a.kind === 'knowledge' ? `knowledge on "${knowledgeQuery(a.name)}"` : `${a.kind} ${where}`;
    if (a.missing) {
      parts.push('', `${a.kind} ${a.name}: ${a.kind === 'knowledge' ? 'nothing found in the knowledge base' : 'not found in the workspace'}`);
      continue;
    }
    let text = a.text;
    let note = '';
    if (text.length > left) {
      text = text.slice(0, Math.max(0, left));
      note = `\n[cut: ${a.text.length - text.length} more characters not attached]`;
    }
    left -= text.length;
    const f = fence(text);
    parts.push('', `${title}:`, f, text.replace(/\n$/, ''), f + note);
  }
  return parts.join('\n');
}
