import { describe, expect, it } from 'vitest';
import { inlineEditInstructions, replacementFrom } from '../../src/core/inlineEdit';

const METHOD = '    def total(self):\n        return sum(i.price for i in self.items)\n';

describe('replacementFrom', () => {
  it("takes the answer's code block, moved to the selection's indentation, ending like it", () => {
    const answer = 'Here you go:\n\n```python\ndef total(self):\n    return sum(i.price * i.qty for i in self.items)\n```\n\nThis multiplies by the quantity.';
    expect(replacementFrom(answer, METHOD)).toEqual({ ok: true, text: '    def total(self):\n        return sum(i.price * i.qty for i in self.items)\n' });
  });

  it('keeps a block already at the right indentation, and a selection without a final newline', () => {
    const answer = '```\n    x = 2\n```';
    expect(replacementFrom(answer, '    x = 1')).toEqual({ ok: true, text: '    x = 2' });
  });

  it('keeps CRLF line ends', () => {
    expect(replacementFrom('```\na = 1\nb = 2\n```', 'a = 0\r\nb = 0\r\n')).toEqual({ ok: true, text: 'a = 1\r\nb = 2\r\n' });
  });

  it('says why when there is nothing to apply', () => {
    expect(replacementFrom('I cannot do that.', METHOD)).toEqual({ ok: false, reason: 'the answer has no code block' });
    expect(replacementFrom('```\n\n```', METHOD)).toEqual({ ok: false, reason: 'the code block is empty' });
    expect(replacementFrom('```python\n' + METHOD + '```', METHOD)).toEqual({ ok: false, reason: 'the model proposed no change' });
  });
});

describe('inlineEditInstructions', () => {
  it('asks for one complete code block for the selection', () => {
    const text = inlineEditInstructions('python', 2);
    expect(text).toContain('selected python code (2 lines)');
    expect(text).toContain('exactly one fenced code block');
  });
});
