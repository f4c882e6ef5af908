import { describe, expect, it } from 'vitest';
import { planMerge, type MergeEdit } from '../../src/core/codeMerge';

/** The text after applying `edits` (non-overlapping) to `text`, as the editor would. */
function apply(text: string, edits: MergeEdit[]): string {
  const lines = text.split('\n');
  const offset = (p: { line: number; character: number }): number =>
    lines.slice(0, p.line).reduce((n, l) => n + l.length + 1, 0) + p.character;
  let out = text;
  for (const e of [...edits].sort((a, b) => offset(b.range.start) - offset(a.range.start))) {
    out = out.slice(0, offset(e.range.start)) + e.newText + out.slice(offset(e.range.end));
  }
  return out;
}

const cursor = { line: 0, character: 0 };

const BILLING = `import math


def compute_tax(amount, rate=0.2):
    return math.ceil(amount * rate * 100) / 100


def total(items):
    return sum(i.price for i in items)


class Cart:
    def __init__(self):
        self.items = []

    def add(self, item):
        self.items.append(item)

    def total(self):
        return total(self.items)
`;

describe('planMerge: definitions', () => {
  it('replaces a function the file defines and leaves the rest alone', () => {
    const block = 'def compute_tax(amount, rate=0.2):\n    return round(amount * rate, 2)\n';
    const plan = planMerge(BILLING, block, cursor);
    expect(plan.kind).toBe('definitions');
    expect(plan.description).toBe('replaces compute_tax');
    const out = apply(BILLING, plan.edits);
    expect(out).toContain('    return round(amount * rate, 2)\n\n\ndef total(items):');
    expect(out).not.toContain('math.ceil');
    expect(out).toContain('class Cart:');
    expect(out.split('\n').length).toBe(BILLING.split('\n').length);
  });

  it('replaces a method shown without its class, re-indented, choosing the method over the function of the same name', () => {
    const block = 'def total(self):\n    return sum(i.price * i.qty for i in self.items)\n';
    // the cursor is in the class: the nearest `total` is the method
    const plan = planMerge(BILLING, block, { line: 19, character: 0 });
    const out = apply(BILLING, plan.edits);
    expect(out).toContain('    def total(self):\n        return sum(i.price * i.qty for i in self.items)\n');
    expect(out).toContain('def total(items):\n    return sum(i.price for i in items)');
  });

  it('prefers the definition whose header is the same, wherever the cursor is', () => {
    const block = 'def total(self):\n    return 0\n';
    const out = apply(BILLING, planMerge(BILLING, block, cursor).edits);
    expect(out).toContain('    def total(self):\n        return 0\n');
    expect(out).toContain('def total(items):\n    return sum(i.price for i in items)');
  });

  it('merges a class whose body elides code member by member, keeping what it elides', () => {
    const block = 'class Cart:\n    # ... existing code ...\n\n    def add(self, item, qty=1):\n        self.items.extend([item] * qty)\n';
    const plan = planMerge(BILLING, block, cursor);
    expect(plan.kind).toBe('definitions');
    const out = apply(BILLING, plan.edits);
    expect(out).toContain('    def __init__(self):\n        self.items = []');
    expect(out).toContain('    def add(self, item, qty=1):\n        self.items.extend([item] * qty)\n\n    def total(self):');
    expect(out).not.toContain('existing code');
  });

  it("adds the block's new definitions after the one replaced and its new imports after the file's", () => {
    const block = 'import decimal\n\ndef compute_tax(amount, rate=0.2):\n    return quantize(amount * rate)\n\ndef quantize(x):\n    return decimal.Decimal(x).quantize(decimal.Decimal("0.01"))\n';
    const plan = planMerge(BILLING, block, cursor);
    expect(plan.description).toBe('replaces compute_tax; adds quantize; adds 1 import');
    const out = apply(BILLING, plan.edits);
    expect(out.startsWith('import math\nimport decimal\n')).toBe(true);
    expect(out).toContain('    return quantize(amount * rate)\n\ndef quantize(x):\n    return decimal');
    expect(out).toContain('\n\ndef total(items):');
  });

  it('puts a new member of a class whose body the block elides at the end of that class', () => {
    const block = 'import decimal\n\ndef compute_tax(amount, rate=0.2):\n    return amount * rate\n\nclass Cart:\n    # ... existing code ...\n\n    def clear(self):\n        self.items = []\n';
    const plan = planMerge(BILLING, block, cursor);
    expect(plan.description).toBe('replaces compute_tax; adds clear; adds 1 import');
    const out = apply(BILLING, plan.edits);
    expect(out.endsWith('        return total(self.items)\n\n    def clear(self):\n        self.items = []\n')).toBe(true);
    expect(out).toContain('def compute_tax(amount, rate=0.2):\n    return amount * rate\n\n\ndef total(items):');
  });

  it("keeps the block's other new lines, after the definition replaced", () => {
    const block = 'def compute_tax(amount, rate=0.2):\n    return amount * rate\n\nTAX_RATE = 0.2\n';
    const plan = planMerge(BILLING, block, cursor);
    expect(plan.description).toBe('replaces compute_tax; adds 1 other line');
    expect(apply(BILLING, plan.edits)).toContain('    return amount * rate\n\nTAX_RATE = 0.2\n\n\ndef total(items):');
  });

  it('replaces a TypeScript function and a method in braces, stopping at the closing brace', () => {
    const file = [
      'export function add(a: number, b: number): number {',
      '  return a + b;',
      '}',
      '',
      'export class Counter {',
      '  private n = 0;',
      '  inc(): number {',
      '    return ++this.n;',
      '  }',
      '  get(): number {',
      '    return this.n;',
      '  }',
      '}',
      '',
    ].join('\n');
    const block = 'inc(by = 1): number {\n  this.n += by;\n  return this.n;\n}';
    const out = apply(file, planMerge(file, block, cursor).edits);
    expect(out).toContain('  inc(by = 1): number {\n    this.n += by;\n    return this.n;\n  }\n  get(): number {');
    const fn = 'export function add(a: number, b: number): number {\n  return b + a;\n}';
    const out2 = apply(file, planMerge(file, fn, cursor).edits);
    expect(out2.startsWith(`${fn}\n\nexport class Counter {`)).toBe(true);
  });

  it('keeps a multi-line Python signature with its body', () => {
    const file = 'def f(\n    a,\n    b,\n) -> int:\n    return a + b\n\n\nx = f(1, 2)\n';
    const out = apply(file, planMerge(file, 'def f(a, b):\n    return a * b', cursor).edits);
    expect(out).toBe('def f(a, b):\n    return a * b\n\n\nx = f(1, 2)\n');
  });

  it('keeps CRLF line ends', () => {
    const file = 'def a():\r\n    return 1\r\n\r\ndef b():\r\n    return 2\r\n';
    const out = apply(file, planMerge(file, 'def b():\n    return 3\n', cursor).edits);
    expect(out).toBe('def a():\r\n    return 1\r\n\r\ndef b():\r\n    return 3\r\n');
  });
});

describe('planMerge: regions, whole files and the cursor', () => {
  it('replaces the region between a fragment’s distinctive first and last lines', () => {
    const file = 'def main():\n    config = load()\n    server = start(config)\n    server.wait()\n    log("bye")\n';
    const block = '    config = load()\n    config.validate()\n    server = start(config)\n';
    const plan = planMerge(file, block, cursor);
    expect(plan).toMatchObject({ kind: 'region', description: 'replaces lines 2–3' });
    expect(apply(file, plan.edits)).toBe('def main():\n    config = load()\n    config.validate()\n    server = start(config)\n    server.wait()\n    log("bye")\n');
  });

  it('does not anchor on brackets or on lines the file has twice: it inserts at the cursor', () => {
    const file = 'x = 1\nprint(x)\nprint(x)\n';
    const plan = planMerge(file, 'print(x)\ny = 2\nprint(x)', { line: 1, character: 0 });
    expect(plan.kind).toBe('insert');
    expect(plan.edits).toEqual([{ range: { start: { line: 1, character: 0 }, end: { line: 1, character: 0 } }, newText: 'print(x)\ny = 2\nprint(x)\n' }]);
    expect(plan.description).toContain('line 2');
  });

  it('inserts a block with no counterpart at the cursor and never replaces the whole file', () => {
    const plan = planMerge(BILLING, 'def discount(amount):\n    return amount * 0.9\n', { line: 9, character: 0 });
    expect(plan.kind).toBe('insert');
    const out = apply(BILLING, plan.edits);
    expect(out).toContain(BILLING.split('\n').slice(0, 9).join('\n'));
    expect(out).toContain('def discount(amount):');
    expect(out.length).toBeGreaterThan(BILLING.length);
  });

  it('replaces the whole file only when the block is a version of it', () => {
    const block = BILLING.replace('rate=0.2', 'rate=0.25');
    const plan = planMerge(BILLING, block, cursor);
    expect(plan.kind).toBe('wholeFile');
    expect(apply(BILLING, plan.edits)).toBe(block);
  });

  it('does not take a block that elides code for the whole file', () => {
    const block = BILLING.replace('    def add(self, item):\n        self.items.append(item)\n', '    # ... existing code ...\n');
    expect(planMerge(BILLING, block, cursor).kind).not.toBe('wholeFile');
  });

  it('fills an empty file', () => {
    const plan = planMerge('', 'print("hi")\n', cursor);
    expect(plan.kind).toBe('wholeFile');
    expect(apply('', plan.edits)).toBe('print("hi")\n');
  });

  it('does nothing with an empty block', () => {
    expect(planMerge(BILLING, '\n\n', cursor).edits).toEqual([]);
  });
});
