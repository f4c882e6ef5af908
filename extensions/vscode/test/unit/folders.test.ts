import { describe, expect, it } from 'vitest';
import { firstExisting, foldersToTry } from '../../src/core/folders';

describe('multi-root folders', () => {
  it("tries the active editor's folder first, then the others in order", () => {
    expect(foldersToTry(['api', 'web', 'docs'], 'web')).toEqual(['web', 'api', 'docs']);
    expect(foldersToTry(['api', 'web'], undefined)).toEqual(['api', 'web']);
    expect(foldersToTry(['api', 'web'], 'elsewhere')).toEqual(['api', 'web']);
  });

  it('picks the first folder that has the file, else the first one', async () => {
    const has = new Set(['web/src/app.ts']);
    const exists = async (c: string): Promise<boolean> => has.has(c);
    expect(await firstExisting(['api/src/app.ts', 'web/src/app.ts'], exists)).toBe('web/src/app.ts');
    expect(await firstExisting(['api/x.ts', 'web/x.ts'], exists)).toBe('api/x.ts');
    expect(await firstExisting([], exists)).toBeUndefined();
  });
});
