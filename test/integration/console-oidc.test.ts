/**
 * Console sign-in through OpenID Connect against a real provider (oidc-provider on loopback):
 * the authorization code flow with PKCE, state and nonce, the role from the ID token's `roles`
 * claim (admin wins, neither is refused), and a callback that does not belong to the browser's
 * own sign-in (tampered state, no cookie, replayed) refused.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createConsoleOidc } from '../../engine/src/auth/console-oidc';
import { createOidcLoginStore } from '../../engine/src/auth/console-oidc-logins';
import { consoleRequest, cookieAttributes, CookieJar, type ConsoleResponse } from '../helpers/console-http';
import { startMockOidcProvider, type MockOidcProvider } from '../helpers/mock-oidc-provider';
import { freePort, startTestEngine, type TestEngine } from '../helpers/test-engine';

let engine: TestEngine;
let idp: MockOidcProvider;
let base: string;

beforeAll(async () => {
  const httpPort = await freePort();
  base = `http://127.0.0.1:${httpPort}`;
  idp = await startMockOidcProvider({
    redirectUri: `${base}/console/auth/oidc/callback`,
    roles: { olga: ['analyst', 'admin'], ana: 'analyst viewer', nina: ['viewer'] },
  });
  engine = await startTestEngine({
    env: {
      HTTP_PORT: String(httpPort),
      PUBLIC_URL: base,
      CONSOLE_OIDC_ISSUER: idp.issuer,
      CONSOLE_OIDC_CLIENT_ID: idp.clientId,
      CONSOLE_OIDC_CLIENT_SECRET: idp.clientSecret,
    },
  });
});
afterAll(async () => {
  await engine.destroy();
  await idp.close();
});

interface Started {
  readonly jar: CookieJar;
  readonly login: ConsoleResponse;
  /** Where the provider sends the browser back, with code and state. */
  readonly callbackUrl: URL;
}

/** Starts at the engine and follows the provider's redirects until it points back at the engine. */
async function throughProvider(account: string): Promise<Started> {
  idp.signInAs(account);
  const jar = new CookieJar();
  const login = await consoleRequest(`${base}/console/auth/oidc/login`);
  expect(login.status).toBe(302);
  jar.take(login);
  let url = new URL(login.headers.location ?? '');
  for (let hops = 0; !url.href.startsWith(`${base}/console/auth/oidc/callback`); hops++) {
    expect(hops).toBeLessThan(10);
    const res = await consoleRequest(url.href, { headers: { cookie: jar.header() } });
    expect([302, 303]).toContain(res.status);
    jar.take(res);
    url = new URL(res.headers.location ?? '', url);
  }
  return { jar, login, callbackUrl: url };
}

function callback(url: URL, jar: CookieJar, accept = 'application/json'): Promise<ConsoleResponse> {
  return consoleRequest(url.href, { headers: { cookie: jar.header(), accept } });
}

async function sessionOf(res: ConsoleResponse): Promise<Record<string, unknown> | undefined> {
  const jar = new CookieJar();
  jar.take(res);
  return (await consoleRequest(`${base}/console/auth/session`, { headers: { cookie: jar.header() } })).json;
}

describe('console OpenID Connect sign-in', () => {
  it('sends the browser to the provider with PKCE (S256), state and nonce', async () => {
    const res = await consoleRequest(`${base}/console/auth/oidc/login`);
    expect(res.status).toBe(302);
    const to = new URL(res.headers.location ?? '');
    expect(to.origin).toBe(idp.issuer);
    expect(to.searchParams.get('client_id')).toBe(idp.clientId);
    expect(to.searchParams.get('redirect_uri')).toBe(`${base}/console/auth/oidc/callback`);
    expect(to.searchParams.get('code_challenge_method')).toBe('S256');
    expect(to.searchParams.get('code_challenge')).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(to.searchParams.get('state')).toBeTruthy();
    expect(to.searchParams.get('nonce')).toBeTruthy();
    // The pending sign-in's cookie must survive the provider's cross-site redirect back.
    expect(cookieAttributes(res, 'console_oidc')).toEqual(
      expect.arrayContaining(['httponly', 'samesite=lax', 'path=/console/auth/oidc']),
    );
    const methods = await consoleRequest(`${base}/console/auth/session`);
    expect(methods.json?.['methods']).toEqual({ password: false, oidc: true });
  });

  it('signs in an admin when the roles claim names admin (admin wins over analyst)', async () => {
    const { jar, callbackUrl } = await throughProvider('olga');
    const done = await callback(callbackUrl, jar);
    expect(done.status).toBe(302);
    expect(done.headers.location).toBe('/console/');
    expect(cookieAttributes(done, 'console_session')).toEqual(
      expect.arrayContaining(['httponly', 'samesite=strict', 'path=/']),
    );
    expect(await sessionOf(done)).toMatchObject({ signedIn: true, user: { name: 'olga', role: 'admin' } });
    const [row] = await engine.db.query<{ method: string }>(
      `SELECT method FROM console_sessions WHERE user_name = 'olga'`,
    );
    expect(row?.method).toBe('oidc');
    const audit = await engine.db.query(
      `SELECT 1 FROM audit_events WHERE action = 'login' AND outcome = 'success' AND subject = 'console-user/olga'`,
    );
    expect(audit).toHaveLength(1);
  });

  it('reads a space-separated roles claim: analyst', async () => {
    const { jar, callbackUrl } = await throughProvider('ana');
    const done = await callback(callbackUrl, jar);
    expect(done.status).toBe(302);
    expect(await sessionOf(done)).toMatchObject({ user: { name: 'ana', role: 'analyst' } });
  });

  it('refuses a user with neither role: 403, no session, audited', async () => {
    const { jar, callbackUrl } = await throughProvider('nina');
    const done = await callback(callbackUrl, jar, 'text/html');
    expect(done.status).toBe(403);
    expect(done.headers['content-type']).toMatch(/text\/html/);
    expect(done.text).toMatch(/neither &#39;analyst&#39; nor &#39;admin&#39;/);
    expect(cookieAttributes(done, 'console_session')).toBeUndefined();
    const audit = await engine.db.query<{ detail: Record<string, unknown> }>(
      `SELECT detail FROM audit_events WHERE action = 'login' AND outcome = 'denied' AND subject = 'console-user/nina'`,
    );
    expect(audit.map((r) => r.detail['reason'])).toEqual(['oidc-no-role']);
  });

  it('refuses a callback whose state does not match the sign-in it started', async () => {
    const { jar, callbackUrl } = await throughProvider('olga');
    const tampered = new URL(callbackUrl);
    tampered.searchParams.set('state', 'not-the-state-we-sent');
    const res = await callback(tampered, jar);
    expect(res.status).toBe(400);
    expect(res.json?.['resourceType']).toBe('OperationOutcome');
    expect(res.text).toMatch(/state/);
    expect(cookieAttributes(res, 'console_session')).toBeUndefined();
  });

  it('refuses a callback without the sign-in cookie, and one used twice', async () => {
    const first = await throughProvider('olga');
    const noCookie = await consoleRequest(first.callbackUrl.href);
    expect(noCookie.status).toBe(400);
    expect(cookieAttributes(noCookie, 'console_session')).toBeUndefined();

    const second = await throughProvider('olga');
    expect((await callback(second.callbackUrl, second.jar)).status).toBe(302);
    const replay = await callback(second.callbackUrl, second.jar);
    expect(replay.status).toBe(400);
    expect(cookieAttributes(replay, 'console_session')).toBeUndefined();
  });

  it('says the provider is unreachable rather than failing obscurely', async () => {
    const dead = createConsoleOidc({
      settings: { issuer: `http://127.0.0.1:${await freePort()}`, clientId: 'x', rolesClaim: 'roles' },
      redirectUri: `${base}/console/auth/oidc/callback`,
      logins: createOidcLoginStore(engine.db),
    });
    await expect(dead.begin()).rejects.toMatchObject({ name: 'ConsoleOidcError', code: 'oidc-unavailable' });
    expect(() =>
      createConsoleOidc({
        settings: { issuer: 'http://idp.example.org', clientId: 'x', rolesClaim: 'roles' },
        redirectUri: `${base}/console/auth/oidc/callback`,
        logins: createOidcLoginStore(engine.db),
      }),
    ).toThrow(/must be https/);
  });
});
