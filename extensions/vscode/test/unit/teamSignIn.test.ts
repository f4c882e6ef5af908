import { describe, expect, it } from 'vitest';
import { normalizeServerUrl, passwordGrant, revokeToken, SignInError, type Fetch } from '../../src/core/teamSignIn';

function fakeServer(status: number, body: unknown, seen: Array<{ url: string; body: string }> = []): Fetch {
  return async (url, init) => {
    seen.push({ url, body: init.body });
    return { status, json: async () => body };
  };
}

describe('team sign-in', () => {
  it('normalizes the server URL', () => {
    expect(normalizeServerUrl(' https://team.example.com/ ')).toBe('https://team.example.com');
    expect(normalizeServerUrl('wss://team.example.com')).toBe('https://team.example.com');
    expect(() => normalizeServerUrl('team.example.com')).toThrow(SignInError);
  });

  it('exchanges email and password for a refresh token (password grant)', async () => {
    const seen: Array<{ url: string; body: string }> = [];
    const token = await passwordGrant(fakeServer(200, { refresh_token: 'lgr_a_b', access_token: 'x' }, seen), 'https://t', 'me@x.io', 'p&w=d');
    expect(token).toBe('lgr_a_b');
    expect(seen[0]?.url).toBe('https://t/api/v1/auth/token');
    expect(seen[0]?.body).toBe('grant_type=password&username=me%40x.io&password=p%26w%3Dd');
  });

  it('explains a refused sign-in and an unreachable server', async () => {
    await expect(passwordGrant(fakeServer(401, { message: 'invalid email or password' }), 'https://t', 'a', 'b')).rejects.toThrow(
      'Sign-in refused: invalid email or password',
    );
    const down: Fetch = async () => {
      throw new Error('ECONNREFUSED');
    };
    await expect(passwordGrant(down, 'https://t', 'a', 'b')).rejects.toThrow('Cannot reach https://t');
  });

  it('revokes on sign-out, best effort', async () => {
    expect(await revokeToken(fakeServer(204, {}), 'https://t', 'lgr_a_b')).toBe(true);
    const down: Fetch = async () => {
      throw new Error('offline');
    };
    expect(await revokeToken(down, 'https://t', 'lgr_a_b')).toBe(false);
  });
});
