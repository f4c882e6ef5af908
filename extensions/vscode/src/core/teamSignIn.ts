/**
 * Signing in to a team server (docs/team-server.md): the OAuth2 password grant gives a
 * refresh token, which the extension keeps in SecretStorage and hands to the language
 * server; signing out revokes it on the server. Plain fetch, no VS Code imports, so the
 * unit tests drive it against a fake server.
 */

export type Fetch = (url: string, init: { method: string; headers: Record<string, string>; body: string }) => Promise<{
  status: number;
  json(): Promise<unknown>;
}>;

export class SignInError extends Error {}

/** The server's base URL: http(s), no trailing slash (ws(s):// is accepted and converted). */
export function normalizeServerUrl(raw: string): string {
  const url = raw.trim().replace(/\/+$/, '');
  if (/^wss?:\/\//.test(url)) {
    return url.replace(/^ws/, 'http');
  }
  if (!/^https?:\/\/\S+$/.test(url)) {
    throw new SignInError('Enter the team server URL, e.g. https://team.example.com');
  }
  return url;
}

const form = (fields: Record<string, string>): string =>
  Object.entries(fields)
    .map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`)
    .join('&');

/** Exchange an email and password for a refresh token (never returns the password). */
export async function passwordGrant(fetchImpl: Fetch, serverUrl: string, email: string, password: string): Promise<string> {
  const base = normalizeServerUrl(serverUrl);
  let response;
  try {
    response = await fetchImpl(`${base}/api/v1/auth/token`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      body: form({ grant_type: 'password', username: email.trim(), password }),
    });
  } catch (err) {
    throw new SignInError(`Cannot reach ${base}: ${String(err)}`);
  }
  const body = (await response.json().catch(() => ({}))) as { refresh_token?: unknown; message?: unknown };
  if (response.status === 401) {
    throw new SignInError(`Sign-in refused: ${typeof body.message === 'string' ? body.message : 'wrong email or password'}`);
  }
  if (response.status !== 200 || typeof body.refresh_token !== 'string') {
    throw new SignInError(`The team server answered HTTP ${response.status}`);
  }
  return body.refresh_token;
}

/** Revoke a refresh or personal token on the server (best effort: false if unreachable). */
export async function revokeToken(fetchImpl: Fetch, serverUrl: string, token: string): Promise<boolean> {
  try {
    const response = await fetchImpl(`${normalizeServerUrl(serverUrl)}/api/v1/auth/revoke`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      body: form({ token }),
    });
    return response.status === 204;
  } catch {
    return false;
  }
}
