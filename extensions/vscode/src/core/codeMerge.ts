/**
 * Apply for a chat code block with no selection: where in the file the block goes. Pure
 * (lines in, LSP-style edits out), so it is tested without VS Code.
 *
 * In order:
 * 1. the block is clearly a whole-file version (≥ 80% of the file's non-blank lines are in
 *    it): replace the file;
 * 2. the block defines functions/classes/methods whose names the file defines: replace
 *    those definitions (re-indented to the file's), add the block's new definitions after
 *    the last one replaced and its new imports after the file's imports;
 * 3. the block's distinctive first and last lines each occur once in the file, in order and
 *    close together: replace that region;
 * 4. otherwise insert the block at the cursor. The whole file is never replaced silently.
 */
import type { WirePosition, WireRange } from './protocol';

export interface MergeEdit {
  range: WireRange;
  newText: string;
}

export type MergeKind = 'wholeFile' | 'definitions' | 'region' | 'insert';

export interface MergePlan {
  kind: MergeKind;
  edits: MergeEdit[];
  /** What the plan does, for the review's description: "replaces compute_tax, Cart.total". */
  description: string;
}

/** Share of the file's non-blank lines that must appear in a block taken as the whole file. */
export const WHOLE_FILE_SHARE = 0.8;

interface Def {
  name: string;
  /** First line (decorators and the comments right above included). */
  start: number;
  header: number;
  /** Last line, inclusive. */
  end: number;
  indent: string;
  /** For a member merged on its own: the block's definition it is in (which elides code). */
  container?: Def;
}

// A definition header and its name. Order matters: the first pattern that matches wins.
const DEF_PATTERNS: RegExp[] = [
  /^(?:async\s+)?def\s+([A-Za-z_]\w*)\s*\(/, // Python
  /^class\s+([A-Za-z_$][\w$]*)/, // Python, JS/TS, Java, C#…
  /^(?:export\s+)?(?:default\s+)?(?:declare\s+)?(?:abstract\s+)?class\s+([A-Za-z_$][\w$]*)/,
  /^(?:export\s+)?(?:default\s+)?(?:async\s+)?function\s*\*?\s*([A-Za-z_$][\w$]*)\s*[<(]/,
  /^(?:export\s+)?(?:const|let|var)\s+([A-Za-z_$][\w$]*)\s*(?::[^=]+)?=\s*(?:async\s+)?(?:function\b|\([^)]*\)\s*(?::[^=]+)?=>|[A-Za-z_$][\w$]*\s*=>)/,
  /^(?:export\s+)?(?:interface|type|enum)\s+([A-Za-z_$][\w$]*)/,
  /^func\s+(?:\([^)]*\)\s*)?([A-Za-z_]\w*)\s*[[(]/, // Go
  /^(?:pub(?:\([^)]*\))?\s+)?(?:async\s+)?(?:unsafe\s+)?(?:fn|struct|enum|trait|impl)\s+([A-Za-z_]\w*)/, // Rust
  // a method in a JS/TS/Java/C# class: `name(args) {`, `async name(…): T {`, `public static int name(…) {`
  /^(?:(?:public|private|protected|static|async|override|readonly|final|abstract|virtual|get|set)\s+)*(?:[\w<>[\],.?]+\s+)?([A-Za-z_$][\w$]*)\s*(?:<[^>]*>)?\([^;]*\)\s*(?::\s*[^{]+)?\{\s*$/,
];
const NOT_METHOD = new Set(['if', 'for', 'while', 'switch', 'catch', 'with', 'return', 'function', 'else', 'do', 'try', 'new']);

const IMPORT = /^(?:import\s|from\s+\S+\s+import\s|#include\s|use\s|using\s|require[\s(]|const\s+\w+\s*=\s*require\()/;
/** `# ... existing code ...`, `// rest unchanged`: a block that elides code. */
const ELISION = /^(?:#|\/\/|\/\*+|<!--|--|;)\s*(?:\.\.\.|…|.*\b(?:existing code|rest of (?:the )?(?:code|file|class|function|method)|unchanged|remains the same)\b)/i;

const indentOf = (line: string): string => /^\s*/.exec(line)?.[0] ?? '';
const isBlank = (line: string): boolean => line.trim() === '';
const CLOSER = /^[)\]}]/;

function defName(line: string): string | undefined {
  const t = line.trim();
  for (const p of DEF_PATTERNS) {
    const m = p.exec(t);
    if (m?.[1] && !NOT_METHOD.has(m[1])) {
      return m[1];
    }
  }
  return undefined;
}

/** Last line of the definition whose header is at `header`: up to the next line indented no
 * deeper than the header (a closing bracket at that depth still belongs to it). */
function defEnd(lines: string[], header: number): number {
  const depth = indentOf(lines[header] ?? '').length;
  let last = header;
  for (let i = header + 1; i < lines.length; i++) {
    const line = lines[i] ?? '';
    if (isBlank(line)) {
      continue;
    }
    if (indentOf(line).length > depth) {
      last = i;
      continue;
    }
    if (CLOSER.test(line.trim())) {
      last = i;
      // `}` closes a brace body: the definition ends there (`) -> int:` does not)
      if (/^}\s*[;,]?\s*$/.test(line.trim())) {
        break;
      }
      continue;
    }
    break;
  }
  return last;
}

/** Where the decorators / doc comments directly above `header` begin. */
function defStart(lines: string[], header: number): number {
  const depth = indentOf(lines[header] ?? '');
  let start = header;
  for (let i = header - 1; i >= 0; i--) {
    const line = lines[i] ?? '';
    const t = line.trim();
    if (indentOf(line) !== depth || !/^(?:@|#(?!include)|\/\/|\/\*|\*|"""|''')/.test(t)) {
      break;
    }
    start = i;
  }
  return start;
}

/** Every definition in `lines` (nested ones too), in order. */
function definitions(lines: string[]): Def[] {
  const defs: Def[] = [];
  lines.forEach((line, i) => {
    const name = defName(line);
    if (name !== undefined) {
      defs.push({ name, header: i, start: defStart(lines, i), end: defEnd(lines, i), indent: indentOf(line) });
    }
  });
  return defs;
}

/** The outermost definitions of a block: those not inside another. */
function topLevel(defs: Def[]): Def[] {
  const out: Def[] = [];
  for (const d of defs) {
    const last = out[out.length - 1];
    if (!last || d.start > last.end) {
      out.push(d);
    }
  }
  return out;
}

/** The definitions of a block to merge one by one: the outermost ones, except that one
 * eliding part of its body (`# ... existing code ...`) is merged through its members. */
function mergeUnits(all: Def[], block: string[], within?: Def): Def[] {
  const inside = within ? all.filter((d) => d.header > within.header && d.end <= within.end) : all;
  const units: Def[] = [];
  for (const d of topLevel(inside)) {
    const elides = block.slice(d.header + 1, d.end + 1).some((l) => ELISION.test(l.trim()));
    units.push(...(elides ? mergeUnits(all, block, d) : [within ? { ...d, container: within } : d]));
  }
  return units;
}

/** `lines` moved from indentation `from` to `to` (lines indented less are left as they are). */
function reindent(lines: string[], from: string, to: string): string[] {
  if (from === to) {
    return lines;
  }
  return lines.map((l) => (isBlank(l) ? '' : l.startsWith(from) ? to + l.slice(from.length) : l));
}

function commonIndent(lines: string[]): string {
  let common: string | undefined;
  for (const l of lines) {
    if (isBlank(l)) continue;
    const i = indentOf(l);
    if (common === undefined || i.length < common.length) common = i;
  }
  return common ?? '';
}

function splitLines(text: string): { lines: string[]; eol: string } {
  const eol = text.includes('\r\n') ? '\r\n' : '\n';
  return { lines: text.split(/\r?\n/), eol };
}

function trimBlankEdges(lines: string[]): string[] {
  let a = 0;
  let b = lines.length;
  while (a < b && isBlank(lines[a] ?? '')) a++;
  while (b > a && isBlank(lines[b - 1] ?? '')) b--;
  return lines.slice(a, b);
}

/** Lines [first, last] of the file replaced by `text` lines. */
function replaceLines(file: string[], first: number, last: number, text: string[], eol: string): MergeEdit {
  const atEnd = last >= file.length - 1;
  const end: WirePosition = atEnd ? { line: file.length - 1, character: (file[file.length - 1] ?? '').length } : { line: last + 1, character: 0 };
  return { range: { start: { line: first, character: 0 }, end }, newText: text.join(eol) + (atEnd ? '' : eol) };
}

/** `text` lines inserted as new lines after line `after` (-1: at the top). */
function insertAfter(file: string[], after: number, text: string[], eol: string, gap: boolean): MergeEdit {
  const body = text.join(eol);
  if (after >= file.length - 1) {
    const last = file.length - 1;
    const pos = { line: last, character: (file[last] ?? '').length };
    const sep = (file[last] ?? '') === '' ? (gap ? eol : '') : gap ? eol + eol : eol;
    return { range: { start: pos, end: pos }, newText: sep + body + eol };
  }
  const pos = { line: after + 1, character: 0 };
  return { range: { start: pos, end: pos }, newText: (gap && after >= 0 ? eol : '') + body + eol + (gap && after < 0 ? eol : '') };
}

function wholeFileShare(file: string[], block: string[]): number {
  const have = new Set(block.map((l) => l.trim()).filter(Boolean));
  const lines = file.map((l) => l.trim()).filter(Boolean);
  if (lines.length === 0) {
    return 1;
  }
  return lines.filter((l) => have.has(l)).length / lines.length;
}

/** A line specific enough to anchor a region: not a bracket, a keyword or a one-word line. */
function distinctive(line: string): boolean {
  const t = line.trim();
  return t.replace(/[^A-Za-z0-9_]/g, '').length >= 4 && !/^(?:return|else|end|pass|break|continue|try|finally|begin)\b\W*$/.test(t);
}

function indexesOf(file: string[], trimmed: string): number[] {
  const out: number[] = [];
  file.forEach((l, i) => {
    if (l.trim() === trimmed) out.push(i);
  });
  return out;
}

function nearest(candidates: Def[], cursorLine: number): Def | undefined {
  return [...candidates].sort((a, b) => Math.abs(a.header - cursorLine) - Math.abs(b.header - cursorLine))[0];
}

function planDefinitions(file: string[], block: string[], cursorLine: number, eol: string): MergePlan | undefined {
  const fileDefs = definitions(file);
  const blockDefs = mergeUnits(definitions(block), block);
  if (blockDefs.length === 0) {
    return undefined;
  }
  const edits: MergeEdit[] = [];
  const replaced: string[] = [];
  const added: Def[] = [];
  let lastReplaced: Def | undefined;
  const used = new Set<Def>();
  for (const d of blockDefs) {
    const header = (block[d.header] ?? '').trim();
    const same = fileDefs.filter((f) => f.name === d.name && !used.has(f));
    // same name and the same kind of header (`def`, `class`, `function`…) when there is a choice
    const kind = header.split(/\s+/)[0];
    const sameKind = same.filter((f) => (file[f.header] ?? '').trim().split(/\s+/)[0] === kind);
    const sameHeader = same.filter((f) => (file[f.header] ?? '').trim() === header);
    const target = nearest(sameHeader.length ? sameHeader : sameKind.length ? sameKind : same, cursorLine);
    if (!target) {
      added.push(d);
      continue;
    }
    if (fileDefs.some((f) => used.has(f) && f.start <= target.start && f.end >= target.end)) {
      continue; // already inside a replaced definition
    }
    used.add(target);
    const text = reindent(block.slice(d.start, d.end + 1), d.indent, target.indent);
    edits.push(replaceLines(file, target.start, target.end, text, eol));
    replaced.push(target.name);
    if (!lastReplaced || target.end > lastReplaced.end) {
      lastReplaced = target;
    }
  }
  if (!lastReplaced) {
    return undefined;
  }
  // The block's other lines: its new definitions go after the last one replaced (a new member
  // of a class whose body the block elides: at the end of that class), new imports after the
  // file's imports, any other new lines after the last one replaced; lines the file already
  // has and elisions are dropped.
  const inDefs = new Set<number>();
  for (const d of blockDefs) for (let i = d.start; i <= d.end; i++) inDefs.add(i);
  const fileLines = new Set(file.map((l) => l.trim()));
  const rest = block
    .map((l, i) => ({ l, i }))
    .filter(({ l, i }) => !inDefs.has(i) && !isBlank(l) && !fileLines.has(l.trim()) && !ELISION.test(l.trim()));
  const newImports = rest.filter(({ l }) => IMPORT.test(l.trim())).map(({ l }) => l.trim());
  const other = rest.filter(({ l }) => !IMPORT.test(l.trim())).map(({ l }) => l);
  if (newImports.length) {
    let lastImport = -1;
    file.forEach((l, i) => {
      if (IMPORT.test(l) && indentOf(l) === '') lastImport = i;
    });
    edits.push(insertAfter(file, lastImport, newImports, eol, lastImport < 0));
  }
  const after = new Map<number, { indent: string; text: string[] }>();
  const place = (line: number, indent: string, text: string[]): void => {
    const at = after.get(line) ?? { indent, text: [] };
    if (at.text.length) at.text.push('');
    at.text.push(...text);
    after.set(line, at);
  };
  for (const d of added) {
    const home = d.container ? nearest(fileDefs.filter((f) => f.name === d.container?.name), cursorLine) : undefined;
    if (d.container && home) {
      const indent = home.indent + d.indent.slice(d.container.indent.length);
      place(home.end, indent, reindent(block.slice(d.start, d.end + 1), d.indent, indent));
    } else {
      place(lastReplaced.end, lastReplaced.indent, reindent(block.slice(d.start, d.end + 1), d.indent, lastReplaced.indent));
    }
  }
  if (other.length) {
    place(lastReplaced.end, lastReplaced.indent, reindent(other, commonIndent(other), lastReplaced.indent));
  }
  for (const [line, { text }] of after) {
    edits.push(insertAfter(file, line, text, eol, true));
  }
  edits.sort((a, b) => a.range.start.line - b.range.start.line || a.range.start.character - b.range.start.character);
  const parts = [`replaces ${replaced.join(', ')}`];
  if (added.length) parts.push(`adds ${added.map((d) => d.name).join(', ')}`);
  if (newImports.length) parts.push(`adds ${newImports.length} import${newImports.length === 1 ? '' : 's'}`);
  if (other.length) parts.push(`adds ${other.length} other line${other.length === 1 ? '' : 's'}`);
  return { kind: 'definitions', edits, description: parts.join('; ') };
}

function planRegion(file: string[], block: string[], eol: string): MergePlan | undefined {
  const first = (block[0] ?? '').trim();
  const last = (block[block.length - 1] ?? '').trim();
  if (!distinctive(first) || (block.length > 1 && !distinctive(last))) {
    return undefined;
  }
  const starts = indexesOf(file, first);
  const ends = block.length > 1 ? indexesOf(file, last) : starts;
  if (starts.length !== 1 || ends.length !== 1) {
    return undefined;
  }
  const a = starts[0] ?? 0;
  const b = ends[0] ?? 0;
  // in order, and not a region much longer than the block (then it is not "the" region)
  if (b < a || b - a + 1 > 2 * block.length + 10) {
    return undefined;
  }
  const text = reindent(block, indentOf(block[0] ?? ''), indentOf(file[a] ?? ''));
  return {
    kind: 'region',
    edits: [replaceLines(file, a, b, text, eol)],
    description: a === b ? `replaces line ${a + 1}` : `replaces lines ${a + 1}–${b + 1}`,
  };
}

/**
 * Where `code` goes in a file whose text is `fileText`, the cursor being at `cursor` (used to
 * insert, and to choose between definitions of the same name).
 */
export function planMerge(fileText: string, code: string, cursor: WirePosition): MergePlan {
  const { lines: file, eol } = splitLines(fileText);
  const block = trimBlankEdges(code.split(/\r?\n/));
  if (block.length === 0) {
    return { kind: 'insert', edits: [], description: 'nothing to apply' };
  }
  const elides = block.some((l) => ELISION.test(l.trim()));
  const blankFile = file.every(isBlank);
  if (blankFile || (!elides && wholeFileShare(file, block) >= WHOLE_FILE_SHARE)) {
    const end = { line: file.length - 1, character: (file[file.length - 1] ?? '').length };
    const trailing = fileText.endsWith('\n') || blankFile ? eol : '';
    return {
      kind: 'wholeFile',
      edits: [{ range: { start: { line: 0, character: 0 }, end }, newText: block.join(eol) + trailing }],
      description: 'replaces the whole file (the block is a new version of it)',
    };
  }
  const plan = planDefinitions(file, block, cursor.line, eol) ?? planRegion(file, block, eol);
  if (plan) {
    return plan;
  }
  return {
    kind: 'insert',
    edits: [{ range: { start: cursor, end: cursor }, newText: block.join(eol) + eol }],
    description: `inserts at line ${cursor.line + 1} (no matching code found in the file)`,
  };
}
