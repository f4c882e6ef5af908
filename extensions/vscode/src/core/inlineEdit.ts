/**
 * Inline edit of a selection (Ctrl+I): the instruction goes to the chat with the selection,
 * the answer's code block becomes the selection's replacement, shown as a diff to accept or
 * reject. Pure: what is asked, and what the answer replaces the selection with.
 */
import { extractCodeBlocks } from './codeBlocks';

/** What is sent after the user's instruction (the selection itself goes as the range). */
export function inlineEditInstructions(languageId: string, lines: number): string {
  return [
    '',
    `Rewrite the selected ${languageId} code (${lines} line${lines === 1 ? '' : 's'}) as asked above.`,
    'Answer with exactly one fenced code block holding the complete replacement for the selection,',
    'at the same indentation, and nothing that is not part of it. Do not elide code.',
  ].join('\n');
}

export type Replacement = { ok: true; text: string } | { ok: false; reason: string };

const indentOf = (line: string): string => /^[ \t]*/.exec(line)?.[0] ?? '';

function commonIndent(lines: string[]): string {
  let common: string | undefined;
  for (const l of lines) {
    if (l.trim() === '') continue;
    const i = indentOf(l);
    if (common === undefined || i.length < common.length) common = i;
  }
  return common ?? '';
}

/** The replacement for `selected` (whole lines) from the model's `answer`: its first code
 * block, moved to the selection's indentation, ending like the selection (newline or not). */
export function replacementFrom(answer: string, selected: string): Replacement {
  const blocks = extractCodeBlocks(answer);
  if (blocks.length === 0) {
    return { ok: false, reason: 'the answer has no code block' };
  }
  let code = (blocks[0]?.code ?? '').replace(/\r\n/g, '\n');
  if (code.trim() === '') {
    return { ok: false, reason: 'the code block is empty' };
  }
  code = code.replace(/\n+$/, '');
  const eol = selected.includes('\r\n') ? '\r\n' : '\n';
  const selLines = selected.replace(/\r\n/g, '\n').split('\n');
  const want = commonIndent(selLines);
  const lines = code.split('\n');
  const have = commonIndent(lines);
  let moved = lines;
  if (have !== want) {
    moved = lines.map((l) => (l.trim() === '' ? '' : want + l.slice(have.length)));
  }
  const trailing = /\r?\n$/.test(selected) ? eol : '';
  const text = moved.join(eol) + trailing;
  if (text === selected) {
    return { ok: false, reason: 'the model proposed no change' };
  }
  return { ok: true, text };
}
