import { describe, expect, it } from 'vitest';
import { CREW_CATALOG } from '../../src/core/generated/catalog';
import { parseSlash, slashHelp } from '../../src/core/slashCommands';

const crews = CREW_CATALOG.filter((c) => c.palette);

describe('parseSlash', () => {
  it('runs the crew named after the slash, with the rest as its request', () => {
    const slash = parseSlash('/explain  why is this recursive?', crews);
    expect(slash?.kind).toBe('crew');
    if (slash?.kind === 'crew') {
      expect(slash.crew.id).toBe('explain');
      expect(slash.prompt).toBe('why is this recursive?');
    }
  });

  it('is case-insensitive and keeps a multi-line request', () => {
    const slash = parseSlash('/EXPLAIN first line\nsecond line', crews);
    expect(slash?.kind === 'crew' && slash.prompt).toBe('first line\nsecond line');
  });

  it('asks for the request a crew needs', () => {
    const needy = crews.filter((c) => c.needs_prompt);
    expect(needy.length).toBeGreaterThan(0);
    for (const crew of needy) {
      expect(parseSlash(`/${crew.id}`, crews)?.kind).toBe('needsPrompt');
    }
  });

  it('leaves paths, unknown words and plain text to the chat', () => {
    expect(parseSlash('/usr/lib/python3 is missing', crews)).toBeUndefined();
    expect(parseSlash('/frobnicate this', crews)).toBeUndefined();
    expect(parseSlash('what does /explain do?', crews)).toBeUndefined();
  });

  it('lists every crew on /help', () => {
    const slash = parseSlash('/help', crews);
    expect(slash?.kind).toBe('help');
    for (const crew of crews) {
      expect(slashHelp(crews)).toContain(`/${crew.id}`);
    }
  });
});
