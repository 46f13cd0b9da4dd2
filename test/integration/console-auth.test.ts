/**
 * Analyst console sign-in against a real engine (PostgreSQL sessions, Redis rate limiting): the
 * cookie's attributes, one answer for a wrong password and an unknown user, CSRF on every change
 * the cookie authenticates, roles as scopes, sign-out and expiry, the failed-login limit per user
 * name and per address (and failing closed without Redis), the audit trail, and the users CLI
 * whose changes the running engine picks up.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import express from 'express';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getAccessContext } from '../../engine/src/auth/access-context';
import { hashPassword } from '../../engine/src/auth/console-password';
import { writeConsoleUsersFile, type ConsoleUser } from '../../engine/src/auth/console-users';
import { requireScope } from '../../engine/src/auth/require-auth';
import { createConsole } from '../../engine/src/http/console-routes';
import { requireConsoleSession } from '../../engine/src/http/console-session-auth';
import { createLogger } from '../../engine/src/observability/logger';
import { createRedis } from '../../engine/src/queue/redis-connection';
import {
  consoleRequest,
  cookieAttributes,
  CookieJar,
  loopbackAddress,
  type ConsoleResponse,
} from '../helpers/console-http';
import { createSystemClient } from '../helpers/system-client';
import { startTcpProxy, type TcpProxy } from '../helpers/tcp-proxy';
import { TEST_REDIS_URL } from '../helpers/test-db';
import { startTestEngine, waitFor, type TestEngine } from '../helpers/test-engine';

const dir = mkdtempSync(path.join(tmpdir(), 'console-auth-'));
const usersFile = path.join(dir, 'users.json');
const MAX_FAILURES = 3;
const PASSWORDS: Record<string, string> = {
  alice: 'alice correct horse',
  bob: 'bob battery staple',
  dave: 'dave pw',
  erin: 'erin pw',
  fred: 'fred pw',
};
const ROLES: Record<string, ConsoleUser['role']> = { alice: 'admin' };

let engine: TestEngine;
let base: string;

async function writeUsers(file: string): Promise<void> {
  const users: ConsoleUser[] = [];
  for (const [name, password] of Object.entries(PASSWORDS)) {
    users.push({ name, role: ROLES[name] ?? 'analyst', passwordHash: await hashPassword(password) });
  }
  await writeConsoleUsersFile(file, users);
}

function login(
  username: string,
  password: string,
  from = loopbackAddress(),
  url = base,
): Promise<ConsoleResponse> {
  return consoleRequest(`${url}/console/auth/login`, { method: 'POST', json: { username, password }, from });
}

interface SignedIn {
  readonly jar: CookieJar;
  readonly csrf: string;
}

async function signIn(name: string, url = base): Promise<SignedIn> {
  const res = await login(name, PASSWORDS[name] ?? '', loopbackAddress(), url);
  expect(res.status).toBe(200);
  const jar = new CookieJar();
  jar.take(res);
  return { jar, csrf: res.json?.['csrfToken'] as string };
}

const withSession = (s: SignedIn, extra: Record<string, string> = {}): Record<string, string> => ({
  cookie: s.jar.header(),
  ...extra,
});

/** The failed sign-in counts live under the engine's queue prefix, beside its queues. */
async function clearLoginCounts(prefix: string): Promise<void> {
  const redis = new Redis(TEST_REDIS_URL);
  const keys = await redis.keys(`${prefix}:console-login:*`);
  if (keys.length > 0) await redis.del(...keys);
  redis.disconnect();
}

beforeAll(async () => {
  await writeUsers(usersFile);
  const client = await createSystemClient();
  engine = await startTestEngine({
    env: {
      CONSOLE_USERS_FILE: usersFile,
      CONSOLE_LOGIN_MAX_FAILURES: String(MAX_FAILURES),
      SMART_CLIENTS_FILE: client.clientsFile,
    },
  });
  base = engine.config.http.publicUrl;
});
afterAll(async () => {
  await clearLoginCounts(engine.prefix);
  await engine.destroy();
  rmSync(dir, { recursive: true, force: true });
});

describe('console password sign-in', () => {
  it('sets an HttpOnly, SameSite=Strict, Path=/ session cookie and reports the user', async () => {
    const before = await consoleRequest(`${base}/console/auth/session`);
    expect(before.json).toEqual({ signedIn: false, methods: { password: true, oidc: false } });

    const res = await login('alice', PASSWORDS['alice']!);
    expect(res.status).toBe(200);
    expect(res.json).toMatchObject({ signedIn: true, user: { name: 'alice', role: 'admin' } });
    expect(res.headers['cache-control']).toBe('no-store');
    const attrs = cookieAttributes(res, 'console_session');
    expect(attrs).toEqual(expect.arrayContaining(['httponly', 'samesite=strict', 'path=/']));
    // PUBLIC_URL is http here: a Secure cookie would never come back.
    expect(attrs).not.toContain('secure');

    const jar = new CookieJar();
    jar.take(res);
    const session = await consoleRequest(`${base}/console/auth/session`, {
      headers: { cookie: jar.header() },
    });
    expect(session.json).toMatchObject({
      signedIn: true,
      user: { name: 'alice', role: 'admin' },
      csrfToken: res.json?.['csrfToken'],
      expiresAt: res.json?.['expiresAt'],
      methods: { password: true, oidc: false },
    });
    // Eight hours by default.
    const ttl = new Date(res.json?.['expiresAt'] as string).getTime() - Date.now();
    expect(ttl).toBeGreaterThan(7.9 * 3_600_000);
    expect(ttl).toBeLessThanOrEqual(8 * 3_600_000);

    // Only a hash of the cookie's id is stored.
    const rows = await engine.db.query<{ id_hash: string }>('SELECT id_hash FROM console_sessions');
    expect(rows.map((r) => r.id_hash)).not.toContain(jar.get('console_session'));
  });

  it('answers a wrong password and an unknown user alike', async () => {
    const wrong = await login('bob', 'not the password');
    const unknown = await login('nobody', 'whatever');
    expect(wrong.status).toBe(401);
    expect(unknown.status).toBe(401);
    expect(wrong.json).toEqual(unknown.json);
    expect(wrong.json?.['resourceType']).toBe('OperationOutcome');
    expect(wrong.setCookies).toEqual([]);
  });

  it('takes JSON only (415 for a form post) and validates the body', async () => {
    const form = await consoleRequest(`${base}/console/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'username=alice&password=x',
      from: loopbackAddress(),
    });
    expect(form.status).toBe(415);
    expect(form.json?.['resourceType']).toBe('OperationOutcome');
    const plain = await consoleRequest(`${base}/console/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'text/plain' },
      body: '{"username":"alice","password":"x"}',
    });
    expect(plain.status).toBe(415);
    const missing = await consoleRequest(`${base}/console/auth/login`, {
      method: 'POST',
      json: { username: 'alice' },
    });
    expect(missing.status).toBe(400);
  });

  it('admits the cookie to /api: reads without CSRF, changes only with X-CSRF-Token', async () => {
    const s = await signIn('bob');
    const list = await consoleRequest(`${base}/api/messages`, { headers: withSession(s) });
    expect(list.status).toBe(200);
    expect(list.json?.['messages']).toEqual([]);

    const noToken = await consoleRequest(`${base}/api/messages/1/replay`, {
      method: 'POST',
      headers: withSession(s),
    });
    expect(noToken.status).toBe(403);
    expect(noToken.text).toMatch(/X-CSRF-Token/);
    const wrongToken = await consoleRequest(`${base}/api/messages/1/replay`, {
      method: 'POST',
      headers: withSession(s, { 'x-csrf-token': 'forged' }),
    });
    expect(wrongToken.status).toBe(403);
    // Past authentication: the message does not exist.
    const withToken = await consoleRequest(`${base}/api/messages/1/replay`, {
      method: 'POST',
      headers: withSession(s, { 'x-csrf-token': s.csrf }),
    });
    expect(withToken.status).toBe(404);

    const none = await consoleRequest(`${base}/api/messages`);
    expect(none.status).toBe(401);
    expect(none.json?.['resourceType']).toBe('OperationOutcome');
  });

  it('judges a request with an Authorization header by its token alone', async () => {
    const s = await signIn('bob');
    const res = await consoleRequest(`${base}/api/messages`, {
      headers: withSession(s, { authorization: 'Bearer not-a-token' }),
    });
    expect(res.status).toBe(401);
  });

  it('ends the session at sign-out (with the CSRF header) and audits it', async () => {
    const s = await signIn('bob');
    const forged = await consoleRequest(`${base}/console/auth/logout`, {
      method: 'POST',
      headers: withSession(s),
    });
    expect(forged.status).toBe(403);
    const out = await consoleRequest(`${base}/console/auth/logout`, {
      method: 'POST',
      headers: withSession(s, { 'x-csrf-token': s.csrf }),
    });
    expect(out.status).toBe(204);
    expect(cookieAttributes(out, 'console_session')).toBeDefined();
    // The old cookie is dead even if the browser kept it.
    const after = await consoleRequest(`${base}/api/messages`, { headers: withSession(s) });
    expect(after.status).toBe(401);
    const session = await consoleRequest(`${base}/console/auth/session`, { headers: withSession(s) });
    expect(session.json?.['signedIn']).toBe(false);
  });

  it('refuses an expired session', async () => {
    const s = await signIn('bob');
    await engine.db.query(
      `UPDATE console_sessions SET expires_at = now() - interval '1 second' WHERE csrf_token = $1`,
      [s.csrf],
    );
    expect((await consoleRequest(`${base}/api/messages`, { headers: withSession(s) })).status).toBe(401);
    const session = await consoleRequest(`${base}/console/auth/session`, { headers: withSession(s) });
    expect(session.json?.['signedIn']).toBe(false);
  });

  it('replaces a session the browser already had (no fixation)', async () => {
    const first = await signIn('bob');
    const again = await consoleRequest(`${base}/console/auth/login`, {
      method: 'POST',
      json: { username: 'bob', password: PASSWORDS['bob'] },
      headers: withSession(first),
      from: loopbackAddress(),
    });
    expect(again.status).toBe(200);
    expect((await consoleRequest(`${base}/api/messages`, { headers: withSession(first) })).status).toBe(401);
  });
});

describe('failed sign-in limit', () => {
  it('refuses a user name after too many failures, even with the right password and from elsewhere', async () => {
    const from = loopbackAddress();
    for (let i = 0; i < MAX_FAILURES; i++) expect((await login('dave', 'wrong', from)).status).toBe(401);
    const blocked = await login('dave', PASSWORDS['dave']!, loopbackAddress());
    expect(blocked.status).toBe(429);
    expect(Number(blocked.headers['retry-after'])).toBeGreaterThan(0);
    expect(Number(blocked.headers['retry-after'])).toBeLessThanOrEqual(15 * 60);
    expect(blocked.json?.['resourceType']).toBe('OperationOutcome');
    expect(blocked.setCookies).toEqual([]);
    // Case does not make a new count.
    expect((await login('DAVE', 'wrong', loopbackAddress())).status).toBe(429);
    // Other users are not affected.
    expect((await login('bob', PASSWORDS['bob']!)).status).toBe(200);
  });

  it('refuses an address after too many failures, whatever the user name', async () => {
    const from = loopbackAddress();
    for (let i = 0; i < MAX_FAILURES; i++) {
      expect((await login(`guess-${i}`, 'wrong', from)).status).toBe(401);
    }
    expect((await login('fred', PASSWORDS['fred']!, from)).status).toBe(429);
    expect((await login('fred', PASSWORDS['fred']!, loopbackAddress())).status).toBe(200);
  });

  it('clears the user name count on a successful sign-in', async () => {
    for (let round = 0; round < 2; round++) {
      for (let i = 0; i < MAX_FAILURES - 1; i++) expect((await login('erin', 'wrong')).status).toBe(401);
      expect((await login('erin', PASSWORDS['erin']!)).status).toBe(200);
    }
  });
});

describe('console roles', () => {
  let server: Server;
  let miniBase: string;
  const redis = createRedis(TEST_REDIS_URL, { role: 'producer' });
  const distDir = mkdtempSync(path.join(tmpdir(), 'console-dist-'));

  beforeAll(async () => {
    // The engine's own console wiring over the engine's database, in front of two test routes:
    // one behind requireConsoleSession and Queue.u as Bull Board is, one that needs Mapping.u.
    const c = createConsole({
      config: engine.config,
      db: engine.db,
      producer: redis,
      bearer: engine.auth.authorize,
      audit: engine.auth.audit,
      logger: createLogger('silent'),
      distDir,
    });
    const app = express();
    app.use('/console', c.loadSession);
    app.use('/console', c.router);
    app.use('/console/queues', requireConsoleSession, requireScope('Queue', 'u'), (_req, res) => {
      res.json({ scopes: getAccessContext(res).scopes });
    });
    app.post('/api/deploy', c.authorize, requireScope('Mapping', 'u'), (_req, res) => {
      res.json({ deployed: true });
    });
    server = app.listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    miniBase = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve));
    redis.disconnect();
    rmSync(distDir, { recursive: true, force: true });
  });

  it('gives an analyst no Mapping.u and no queues; an admin both', async () => {
    const analyst = await signIn('bob');
    const admin = await signIn('alice');

    const deployAsAnalyst = await consoleRequest(`${miniBase}/api/deploy`, {
      method: 'POST',
      headers: withSession(analyst, { 'x-csrf-token': analyst.csrf }),
    });
    expect(deployAsAnalyst.status).toBe(403);
    const deployAsAdmin = await consoleRequest(`${miniBase}/api/deploy`, {
      method: 'POST',
      headers: withSession(admin, { 'x-csrf-token': admin.csrf }),
    });
    expect(deployAsAdmin.json).toEqual({ deployed: true });

    expect(
      (await consoleRequest(`${miniBase}/console/queues`, { headers: withSession(analyst) })).status,
    ).toBe(403);
    const board = await consoleRequest(`${miniBase}/console/queues`, { headers: withSession(admin) });
    expect(board.status).toBe(200);
    expect(board.json?.['scopes']).toEqual(expect.arrayContaining(['system/Queue.u', 'system/Mapping.u']));
  });

  it("keeps the engine's Bull Board for admin sessions", async () => {
    const analyst = await signIn('bob');
    const admin = await signIn('alice');
    const asAnalyst = await consoleRequest(`${base}/console/queues/`, { headers: withSession(analyst) });
    expect(asAnalyst.status).toBe(403);
    const asAdmin = await consoleRequest(`${base}/console/queues/`, {
      headers: withSession(admin, { accept: 'text/html' }),
    });
    expect(asAdmin.status).toBe(200);
    expect(asAdmin.text).not.toContain('<title>console</title>');
    const none = await consoleRequest(`${base}/console/queues/`, { headers: { accept: 'text/html' } });
    expect([none.status, none.headers.location]).toEqual([302, '/console/']);
  });

  it('sends a page request without a session to the sign-in, and answers 401 otherwise', async () => {
    const page = await consoleRequest(`${miniBase}/console/queues`, { headers: { accept: 'text/html' } });
    expect(page.status).toBe(302);
    expect(page.headers.location).toBe('/console/');
    const api = await consoleRequest(`${miniBase}/console/queues`, {
      headers: { accept: 'application/json' },
    });
    expect(api.status).toBe(401);
  });

  it('refuses a cross-site change to an admin page without the CSRF header', async () => {
    const admin = await signIn('alice');
    const crossSite = await consoleRequest(`${miniBase}/console/queues`, {
      method: 'PUT',
      headers: withSession(admin, { origin: 'https://evil.example' }),
    });
    expect(crossSite.status).toBe(403);
  });

  it('serves the built console page with no caching and a strict policy, or 503 unbuilt', async () => {
    const unbuilt = await consoleRequest(`${miniBase}/console/`);
    expect(unbuilt.status).toBe(503);
    expect(unbuilt.json?.['resourceType']).toBe('OperationOutcome');
    expect(unbuilt.text).toMatch(/console not built/);

    writeFileSync(path.join(distDir, 'console.html'), '<!doctype html><title>console</title>');
    for (const p of ['/console/', '/console/messages/12', '/console/mappings/rules/patient.yaml']) {
      const res = await consoleRequest(`${miniBase}${p}`);
      expect(res.status).toBe(200);
      expect(res.text).toContain('<title>console</title>');
      expect(res.headers['cache-control']).toBe('no-store');
      expect(res.headers['content-security-policy']).toMatch(/default-src 'self'/);
      expect(res.headers['content-security-policy']).toMatch(/frame-ancestors 'none'/);
      expect(res.headers['x-content-type-options']).toBe('nosniff');
    }
    const bare = await consoleRequest(`${miniBase}/console`);
    expect(bare.status).toBe(302);
    expect(bare.headers.location).toBe('/console/');
    const auth = await consoleRequest(`${miniBase}/console/auth/nothing`);
    expect(auth.status).toBe(404);
    expect(auth.json?.['resourceType']).toBe('OperationOutcome');
  });
});

describe('console audit trail', () => {
  it('records sign-in successes and failures and sign-outs, never a password', async () => {
    const s = await signIn('bob');
    await login('bob', 'audited wrong password');
    await login('ghost', 'audited unknown user');
    const from = loopbackAddress();
    for (let i = 0; i <= MAX_FAILURES; i++) await login(`audit-${i}`, 'wrong', from);
    await consoleRequest(`${base}/console/auth/logout`, {
      method: 'POST',
      headers: withSession(s, { 'x-csrf-token': s.csrf }),
    });
    const rows = await engine.db.query<{
      client_id: string;
      subject: string | null;
      action: string;
      outcome: string;
      detail: Record<string, unknown> | null;
    }>(
      `SELECT client_id, subject, action, outcome, detail FROM audit_events
        WHERE resource_type = 'ConsoleSession' ORDER BY id`,
    );
    expect(rows.every((r) => r.client_id === 'console')).toBe(true);
    expect(rows).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ subject: 'console-user/bob', action: 'login', outcome: 'success' }),
        expect.objectContaining({
          subject: 'console-user/bob',
          action: 'login',
          outcome: 'denied',
          detail: expect.objectContaining({ reason: 'wrong-password' }) as unknown,
        }),
        expect.objectContaining({
          subject: null,
          action: 'login',
          outcome: 'denied',
          detail: expect.objectContaining({ reason: 'unknown-user' }) as unknown,
        }),
        expect.objectContaining({ subject: 'console-user/bob', action: 'logout', outcome: 'success' }),
        expect.objectContaining({
          action: 'login',
          outcome: 'denied',
          detail: expect.objectContaining({ reason: 'rate-limited' }) as unknown,
        }),
      ]),
    );
    const all = JSON.stringify(rows);
    expect(all).not.toContain('audited wrong password');
    expect(all).not.toContain('ghost');
    for (const pw of Object.values(PASSWORDS)) expect(all).not.toContain(pw);
  });
});

describe('npm run console-user', () => {
  const run = (
    args: string[],
    stdin: string,
    file = usersFile,
  ): Promise<{ code: number; stdout: string; stderr: string }> =>
    new Promise((resolve) => {
      const child = execFile(
        process.execPath,
        ['--import', 'tsx', 'engine/src/cli/console-user.ts', ...args],
        { env: { ...process.env, CONSOLE_USERS_FILE: file }, timeout: 60_000 },
        (err, stdout, stderr) => {
          const code = err === null ? 0 : typeof err.code === 'number' ? err.code : -1;
          resolve({ code, stdout, stderr });
        },
      );
      child.stdin?.end(stdin);
    });

  it('adds, lists and removes users; the running engine follows the file', async () => {
    const added = await run(['add', 'carol', '--role', 'admin'], 'carol secret\nignored second line\n');
    expect(added.code).toBe(0);
    const text = readFileSync(usersFile, 'utf8');
    expect(text).not.toContain('carol secret');
    expect(text).toMatch(/"name": "carol",\s+"role": "admin",\s+"passwordHash": "scrypt\$32768\$8\$1\$/);

    const listed = await run(['list'], '');
    expect(listed.stdout).toContain('carol\tadmin');
    expect(listed.stdout).not.toContain('scrypt');

    // No restart: the engine rereads the changed file.
    const res = await login('carol', 'carol secret');
    expect(res.status).toBe(200);
    const jar = new CookieJar();
    jar.take(res);
    expect((await consoleRequest(`${base}/api/messages`, { headers: { cookie: jar.header() } })).status).toBe(
      200,
    );

    expect((await run(['remove', 'carol'], '')).code).toBe(0);
    expect((await run(['list'], '')).stdout).not.toContain('carol');
    // A removed user's session ends at its next request.
    expect((await consoleRequest(`${base}/api/messages`, { headers: { cookie: jar.header() } })).status).toBe(
      401,
    );
    expect((await login('carol', 'carol secret')).status).toBe(401);
  });

  it('refuses bad input with a non-zero exit and a reason', async () => {
    const empty = await run(['add', 'zed', '--role', 'analyst'], '\n');
    expect(empty.code).not.toBe(0);
    expect(empty.stderr).toMatch(/password is empty/);
    const role = await run(['add', 'zed', '--role', 'boss'], 'pw\n');
    expect(role.code).not.toBe(0);
    expect(role.stderr).toMatch(/--role must be one of analyst, admin/);
    const name = await run(['add', 'bad name', '--role', 'analyst'], 'pw\n');
    expect(name.code).not.toBe(0);
    expect(name.stderr).toMatch(/user name/);
    const dup = await run(['add', 'bob', '--role', 'analyst'], 'pw\n');
    expect(dup.code).not.toBe(0);
    expect(dup.stderr).toMatch(/already exists/);
    const gone = await run(['remove', 'nobody'], '');
    expect(gone.code).not.toBe(0);
    expect((await run(['frobnicate'], '')).code).not.toBe(0);
    expect((await run(['list'], '')).stdout).not.toContain('zed');
  });
});

describe('console sign-in without Redis', () => {
  let proxy: TcpProxy;
  let cut: TestEngine;

  beforeAll(async () => {
    proxy = await startTcpProxy(6379);
    cut = await startTestEngine({
      env: { CONSOLE_USERS_FILE: usersFile, REDIS_URL: `redis://127.0.0.1:${proxy.port}` },
    });
  });
  afterAll(async () => {
    proxy.restore();
    await clearLoginCounts(cut.prefix);
    await cut.destroy();
    await proxy.close();
  });

  it('fails closed: 503, not an unlimited attempt', async () => {
    const url = cut.config.http.publicUrl;
    expect((await login('bob', PASSWORDS['bob']!, loopbackAddress(), url)).status).toBe(200);
    proxy.cut();
    const res = await login('bob', PASSWORDS['bob']!, loopbackAddress(), url);
    expect(res.status).toBe(503);
    expect(res.json?.['resourceType']).toBe('OperationOutcome');
    expect(res.setCookies).toEqual([]);

    proxy.restore();
    await waitFor(
      async () => (await login('bob', PASSWORDS['bob']!, loopbackAddress(), url)).status === 200,
      20_000,
      'sign-in once Redis is back',
    );
  });
});
