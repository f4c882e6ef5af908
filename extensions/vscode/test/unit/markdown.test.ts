import { describe, expect, it } from 'vitest';
import { extractCodeBlocks } from '../../src/core/codeBlocks';
import { contentSecurityPolicy } from '../../src/core/csp';
import { escapeHtml, renderMarkdown } from '../../src/core/markdown';

const answer = [
  'Here is the fix:',
  '',
  '```python',
  'def add(a, b):',
  '    return a + b',
  '```',
  '',
  'and a test:',
  '',
  '```',
  'assert add(1, 2) == 3',
  '```',
].join('\n');

describe('renderMarkdown', () => {
  it('highlights code and adds Copy/Insert/Apply to every block, numbered in order', () => {
    const html = renderMarkdown(answer);
    expect(html).toContain('<span class="hljs-keyword">def</span>');
    expect(html).toContain('class="hljs language-python"');
    expect(html.match(/data-action="apply"/g)).toHaveLength(2);
    expect(html).toContain('data-action="copy" data-index="0"');
    expect(html).toContain('data-action="insert" data-index="1"');
  });

  it('escapes raw HTML from the model instead of rendering it', () => {
    const html = renderMarkdown('<img src=x onerror=alert(1)> <script>alert(2)</script>');
    expect(html).not.toContain('<img');
    expect(html).not.toContain('<script>');
    expect(html).toContain('&lt;script&gt;');
  });

  it('refuses javascript: links', () => {
    expect(renderMarkdown('[x](javascript:alert(1))')).not.toContain('href="javascript:');
    expect(renderMarkdown('[docs](https://example.com)')).toContain('class="md-link"');
  });

  it('renders an unfinished fence while streaming', () => {
    const html = renderMarkdown('```python\ndef f(');
    expect(html).toContain('code-block');
    expect(html).toContain('<span class="hljs-keyword">def</span>');
  });

  it('escapes code in unknown languages', () => {
    expect(renderMarkdown('```brainfudge\n<a>\n```')).toContain('&lt;a&gt;');
  });
});

describe('extractCodeBlocks', () => {
  it('returns the blocks in the same order the renderer numbers them', () => {
    expect(extractCodeBlocks(answer)).toEqual([
      { lang: 'python', code: 'def add(a, b):\n    return a + b\n' },
      { lang: '', code: 'assert add(1, 2) == 3\n' },
    ]);
    expect(extractCodeBlocks('no code')).toEqual([]);
  });
});

describe('webview safety', () => {
  it('escapes HTML', () => {
    expect(escapeHtml(`<a href="x">'&'</a>`)).toBe('&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;');
  });
  it('has a strict CSP: nothing remote, scripts only with the nonce', () => {
    const csp = contentSecurityPolicy('vscode-webview://abc', 'N0NCE');
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain("script-src 'nonce-N0NCE'");
    expect(csp).not.toMatch(/unsafe-inline|unsafe-eval|https:|\*/);
  });
});
