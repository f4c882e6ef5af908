import { describe, expect, it } from 'vitest';
import {
  chipLabel,
  completeMention,
  knowledgeItems,
  knowledgeQuery,
  knowledgeText,
  slug,
  fileItems,
  foldersOf,
  kindItems,
  mentionAt,
  parseMentions,
  promptWithAttachments,
  rankPaths,
  symbolItems,
} from '../../src/core/mentions';

describe('parseMentions', () => {
  it('finds file, folder and symbol mentions with their offsets', () => {
    const text = 'Why does @symbol:compute_tax round up? See @file:src/billing.py and @folder:tests.';
    const found = parseMentions(text);
    expect(found.map((m) => [m.kind, m.value])).toEqual([
      ['symbol', 'compute_tax'],
      ['file', 'src/billing.py'],
      ['folder', 'tests'],
    ]);
    for (const m of found) {
      expect(text.slice(m.start, m.end)).toBe(`@${m.kind}:${m.value}`);
    }
  });

  it('leaves e-mail addresses, decorators, unknown kinds and empty values as text', () => {
    expect(parseMentions('mail bob@file:x.py, use @dataclass, @user:me, @file: alone')).toEqual([]);
  });
});

describe('mentionAt', () => {
  it('sees a kind being typed, then a value being typed', () => {
    expect(mentionAt('explain @', 9)).toEqual({ start: 8, end: 9, query: '' });
    expect(mentionAt('explain @fi', 11)).toEqual({ start: 8, end: 11, query: 'fi' });
    expect(mentionAt('explain @file:bil', 17)).toEqual({ start: 8, end: 17, kind: 'file', query: 'bil' });
  });

  it('covers the rest of the token after the cursor, and nothing when the cursor is elsewhere', () => {
    expect(mentionAt('see @file:billing.py now', 12)).toEqual({ start: 4, end: 20, kind: 'file', query: 'bi' });
    expect(mentionAt('see @file:billing.py now', 23)).toBeUndefined();
    expect(mentionAt('bob@fi', 6)).toBeUndefined();
    expect(mentionAt('@nope:x', 7)).toBeUndefined();
  });
});

describe('completeMention', () => {
  it('puts a kind in and leaves the cursor after the colon', () => {
    expect(completeMention('explain @fi', { start: 8, end: 11 }, '@file:')).toEqual({ text: 'explain @file:', cursor: 14 });
  });

  it('puts a value in with one space after it', () => {
    expect(completeMention('see @file:bil', { start: 4, end: 13 }, '@file:src/billing.py')).toEqual({ text: 'see @file:src/billing.py ', cursor: 25 });
    expect(completeMention('see @file:bil now', { start: 4, end: 13 }, '@file:src/billing.py')).toEqual({ text: 'see @file:src/billing.py now', cursor: 25 });
  });
});

describe('completion lists', () => {
  const files = ['src/billing.py', 'src/app/bill_view.ts', 'tests/test_billing.py', 'README.md', 'src/util/b_i_l_l.py'];

  it('offers the kinds matching what was typed', () => {
    expect(kindItems('').map((i) => i.label)).toEqual(['@file', '@folder', '@symbol', '@knowledge']);
    expect(kindItems('f').map((i) => i.insert)).toEqual(['@file:', '@folder:']);
  });

  it('ranks file names starting with the query first, then containing it, then in-order letters', () => {
    expect(rankPaths(files, 'bill')).toEqual(['src/billing.py', 'src/app/bill_view.ts', 'tests/test_billing.py', 'src/util/b_i_l_l.py']);
    expect(rankPaths(files, 'zzz')).toEqual([]);
    expect(rankPaths(files, '', 2)).toHaveLength(2);
  });

  it('shows a file by its name with its folder as detail', () => {
    expect(fileItems(files, 'readme', 'file')).toEqual([{ label: 'README.md', detail: '', insert: '@file:README.md' }]);
    expect(fileItems(foldersOf(files), 'ut', 'folder')[0]).toEqual({ label: 'util', detail: 'src', insert: '@folder:src/util' });
  });

  it('lists every folder holding a file', () => {
    expect(foldersOf(files)).toEqual(['src', 'src/app', 'src/util', 'tests']);
  });

  it('offers symbols from search hits, names starting with the query first, once per file', () => {
    const hits = [
      { symbol: 'Cart.compute_total', path: 'cart.py', start_line: 9 },
      { symbol: 'compute_tax', path: 'billing.py', start_line: 16 },
      { symbol: 'compute_tax', path: 'billing.py', start_line: 16 },
      { symbol: null, path: 'notes.md', start_line: 1 },
      { symbol: 'precompute', path: 'x.py', start_line: 2 },
    ];
    expect(symbolItems(hits, 'comp')).toEqual([
      { label: 'Cart.compute_total', detail: 'cart.py:9', insert: '@symbol:Cart.compute_total' },
      { label: 'compute_tax', detail: 'billing.py:16', insert: '@symbol:compute_tax' },
      { label: 'precompute', detail: 'x.py:2', insert: '@symbol:precompute' },
    ]);
  });
});

describe('promptWithAttachments', () => {
  it('is the question alone without attachments', () => {
    expect(promptWithAttachments('hi', [])).toBe('hi');
  });

  it('appends each attachment fenced, says what was not found, and cuts at the budget', () => {
    const prompt = promptWithAttachments(
      'Why?',
      [
        { kind: 'symbol', name: 'compute_tax', path: 'billing.py', startLine: 16, text: 'def compute_tax():\n    return 1\n' },
        { kind: 'file', name: 'gone.py', path: 'gone.py', text: '', missing: true },
        { kind: 'file', name: 'big.txt', path: 'big.txt', text: 'x'.repeat(100) },
      ],
      60,
    );
    expect(prompt).toContain('Why?\n\nAttached by the user:\n\nsymbol compute_tax (billing.py:16):\n```\ndef compute_tax():\n    return 1\n```');
    expect(prompt).toContain('file gone.py: not found in the workspace');
    expect(prompt).toContain(`file big.txt:\n\`\`\`\n${'x'.repeat(28)}\n\`\`\`\n[cut: 72 more characters not attached]`);
  });

  it('fences content that itself holds a fence with a longer one', () => {
    expect(promptWithAttachments('q', [{ kind: 'file', name: 'a.md', path: 'a.md', text: '```py\nx\n```' }])).toContain('````\n```py\nx\n```\n````');
  });
});

describe('@knowledge', () => {
  const hits = [
    { source: 'knowledge' as const, path: 'devops/container-images.md', start_line: 31, end_line: 34, heading: 'Run as a non-root user', text: 'Add a USER line.' },
    { source: 'knowledge' as const, path: 'devops/container-images.md', start_line: 31, end_line: 34, heading: 'Run as a non-root user', text: 'Add a USER line.' },
    { source: 'workspace' as const, path: 'README.md', start_line: 1, end_line: 3, heading: null, text: '# Project' },
  ];

  it('is a mention like the others, its words joined by dashes', () => {
    expect(parseMentions('how should @knowledge:non-root-user apply here?')).toMatchObject([{ kind: 'knowledge', value: 'non-root-user' }]);
    expect(knowledgeQuery('non-root_user')).toBe('non root user');
    expect(slug('Run as a non-root user!')).toBe('run-as-a-non-root-user');
  });

  it('offers the topics first, then the passages found, by heading, once each', () => {
    expect(knowledgeItems([], '').map((i) => i.insert)).toEqual(['@knowledge:devops', '@knowledge:security', '@knowledge:performance', '@knowledge:documentation']);
    expect(knowledgeItems(hits, 'non-root')).toEqual([
      { label: 'Run as a non-root user', detail: 'knowledge · devops/container-images.md:31', insert: '@knowledge:run-as-a-non-root-user' },
      { label: 'README.md', detail: 'docs · README.md:1', insert: '@knowledge:readme-md' },
    ]);
  });

  it('attaches the passages with where they come from, and says when nothing was found', () => {
    expect(knowledgeText(hits.slice(1))).toBe(
      '[knowledge base] devops/container-images.md:31-34 — Run as a non-root user\nAdd a USER line.\n\n[workspace] README.md:1-3\n# Project',
    );
    const a = { kind: 'knowledge' as const, name: 'non-root-user', path: '', text: 'x' };
    expect(chipLabel(a)).toBe('knowledge: non root user');
    expect(promptWithAttachments('q', [a])).toContain('knowledge on "non root user":\n```\nx\n```');
    expect(promptWithAttachments('q', [{ ...a, missing: true }])).toContain('knowledge non-root-user: nothing found in the knowledge base');
  });
});
