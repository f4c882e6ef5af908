/**
 * Markdown for the chat panel: markdown-it (raw HTML disabled, so model output cannot inject
 * markup) with highlight.js for fenced code, and a toolbar (Copy / Insert / Apply) on every
 * code block. Block indices match `extractCodeBlocks`, which the extension host uses to act
 * on a block the user clicked (both number the fences in document order).
 */
import MarkdownIt from 'markdown-it';
import { langOf } from './codeBlocks';
import hljs from 'highlight.js/lib/core';
import bash from 'highlight.js/lib/languages/bash';
import c from 'highlight.js/lib/languages/c';
import cpp from 'highlight.js/lib/languages/cpp';
import css from 'highlight.js/lib/languages/css';
import diff from 'highlight.js/lib/languages/diff';
import dockerfile from 'highlight.js/lib/languages/dockerfile';
import go from 'highlight.js/lib/languages/go';
import ini from 'highlight.js/lib/languages/ini';
import java from 'highlight.js/lib/languages/java';
import javascript from 'highlight.js/lib/languages/javascript';
import json from 'highlight.js/lib/languages/json';
import markdownLang from 'highlight.js/lib/languages/markdown';
import python from 'highlight.js/lib/languages/python';
import rust from 'highlight.js/lib/languages/rust';
import shell from 'highlight.js/lib/languages/shell';
import sql from 'highlight.js/lib/languages/sql';
import typescript from 'highlight.js/lib/languages/typescript';
import xml from 'highlight.js/lib/languages/xml';
import yaml from 'highlight.js/lib/languages/yaml';

const LANGUAGES = {
  bash, c, cpp, css, diff, dockerfile, go, ini, java, javascript, json,
  markdown: markdownLang, python, rust, shell, sql, typescript, xml, yaml,
};
for (const [name, lang] of Object.entries(LANGUAGES)) {
  hljs.registerLanguage(name, lang);
}
hljs.registerAliases(['toml'], { languageName: 'ini' });
hljs.registerAliases(['html', 'svg'], { languageName: 'xml' });
hljs.registerAliases(['sh', 'zsh', 'console'], { languageName: 'bash' });
hljs.registerAliases(['py'], { languageName: 'python' });
hljs.registerAliases(['ts', 'tsx'], { languageName: 'typescript' });
hljs.registerAliases(['js', 'jsx'], { languageName: 'javascript' });
hljs.registerAliases(['yml'], { languageName: 'yaml' });

export function escapeHtml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');
}

/** Highlighted HTML for `code`; unknown languages are escaped, not guessed (guessing is slow). */
export function highlight(code: string, lang: string): string {
  const language = lang && hljs.getLanguage(lang) ? lang : undefined;
  if (!language) {
    return escapeHtml(code);
  }
  return hljs.highlight(code, { language, ignoreIllegals: true }).value;
}

type Markdown = ReturnType<typeof MarkdownIt>;

function createRenderer(): Markdown {
  const md = new MarkdownIt({ html: false, linkify: false, breaks: false });
  md.renderer.rules.fence = (tokens, idx, _options, rawEnv) => {
    const env = rawEnv as { blockIndex?: number } | undefined;
    const token = tokens[idx];
    if (!token) {
      return '';
    }
    const index = env?.blockIndex ?? 0;
    if (env) {
      env.blockIndex = index + 1;
    }
    const lang = langOf(token.info);
    const label = lang ? `<span class="code-lang">${escapeHtml(lang)}</span>` : '<span class="code-lang"></span>';
    const buttons = ['copy', 'insert', 'apply']
      .map(
        (action) =>
          `<button class="code-action" data-action="${action}" data-index="${index}" title="${action === 'apply' ? 'Apply to the editor (with a preview)' : action === 'insert' ? 'Insert at the cursor' : 'Copy to the clipboard'}">${action.charAt(0).toUpperCase()}${action.slice(1)}</button>`,
      )
      .join('');
    const cls = lang ? ` class="hljs language-${escapeHtml(lang)}"` : ' class="hljs"';
    return `<div class="code-block" data-index="${index}"><div class="code-toolbar">${label}${buttons}</div><pre><code${cls}>${highlight(token.content, lang)}</code></pre></div>\n`;
  };
  // links open through the extension host (the webview itself navigates nowhere)
  const defaultLinkOpen = md.renderer.rules.link_open ?? ((tokens, idx, options, _env, self) => self.renderToken(tokens, idx, options));
  md.renderer.rules.link_open = (tokens, idx, options, env, self) => {
    tokens[idx]?.attrSet('class', 'md-link');
    return defaultLinkOpen(tokens, idx, options, env, self);
  };
  return md;
}

let renderer: Markdown | undefined;
const md = (): Markdown => (renderer ??= createRenderer());

/** Renders chat markdown to safe HTML with highlighted, actionable code blocks. */
export function renderMarkdown(text: string): string {
  return md().render(text, { blockIndex: 0 });
}
