/**
 * Fenced code blocks of a chat answer, numbered in document order like the rendered
 * toolbars in markdown.ts. Kept apart from the renderer so the extension host does not
 * bundle highlight.js.
 */
import MarkdownIt from 'markdown-it';

export interface CodeBlock {
  lang: string;
  code: string;
}

/** The language of a fence's info string: "python title=x" -> "python". */
export function langOf(info: string): string {
  return (info.trim().split(/\s+/)[0] ?? '').toLowerCase();
}

let parser: ReturnType<typeof MarkdownIt> | undefined;

export function extractCodeBlocks(text: string): CodeBlock[] {
  parser ??= new MarkdownIt({ html: false, linkify: false });
  return parser
    .parse(text, {})
    .filter((t) => t.type === 'fence')
    .map((t) => ({ lang: langOf(t.info), code: t.content }));
}
