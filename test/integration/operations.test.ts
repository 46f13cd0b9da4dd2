/**
 * The operations figures against a real engine: two senders, some failures and an AR rejection
 * over MLLP, notices in every delivery state; `GET /api/operations` and `/metrics` say what was
 * sent. Bull Board at `/console/queues` is for admins only: no credentials get the sign-in (or
 * 401), an analyst 403, an admin session and a token with `Queue.u` the board.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashPassword } from '../../engine/src/auth/console-password';
import { writeConsoleUsersFile } from '../../engine/src/auth/console-users';
import { consoleRequest, CookieJar } from '../helpers/console-http';
import { adtMessage, MllpTestClient } from '../helpers/mllp-test-client';
import { createSystemClient, type SystemClient } from '../helpers/system-client';
import { TEST_REDIS_URL } from '../helpers/test-db';
import { startTestEngine, waitFor, type TestEngine } from '../helpers/test-engine';

const dir = mkdtempSync(path.join(tmpdir(), 'operations-'));
const usersFile = path.join(dir, 'users.json');
let engine: TestEngine;
let client: SystemClient;
let base: string;
let token: string;

async function get(url: string, bearer = token): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(`${base}${url}`, { headers: { authorization: `Bearer ${bearer}` } });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

async function signIn(name: string): Promise<CookieJar> {
  const res = await consoleRequest(`${base}/console/auth/login`, {
    method: 'POST',
    json: { username: name, password: `${name} password` },
  });
  expect(res.status).toBe(200);
  const jar = new CookieJar();
  jar.take(res);
  return jar;
}

beforeAll(async () => {
  await writeConsoleUsersFile(usersFile, [
    { name: 'ada', role: 'admin', passwordHash: await hashPassword('ada password') },
    { name: 'ann', role: 'analyst', passwordHash: await hashPassword('ann password') },
  ]);
  client = await createSystemClient('system/*.rs system/Queue.u');
  engine = await startTestEngine({
    env: { SMART_CLIENTS_FILE: client.clientsFile, CONSOLE_USERS_FILE: usersFile },
  });
  base = engine.config.http.publicUrl;
  token = await client.token(base, 'system/Operations.rs');

  const mllp = await MllpTestClient.connect(engine.mllpPort);
  for (let i = 1; i <= 3; i++) {
    expect((await mllp.send(adtMessage({ controlId: `GHH-${i}`, facility: 'GHH', mrn: `G${i}` }))).code).toBe(
      'AA',
    );
  }
  for (let i = 1; i <= 2; i++) {
    expect(
      (await mllp.send(adtMessage({ controlId: `MER-${i}`, facility: 'MERCY', mrn: `M${i}` }))).code,
    ).toBe('AA');
  }
  // Accepted, but its Patient has no id (PID-3.1 empty): it fails in processing.
  expect((await mllp.send(adtMessage({ controlId: 'MER-3', facility: 'MERCY', mrn: '' }))).code).toBe('AA');
  // No MSH-10: AR, archived as rejected.
  expect((await mllp.send('MSH|^~\\&|EPIC|MERCY|CARE|CARE|2026||ADT^A01')).code).toBe('AR');
  mllp.close();
  await waitFor(
    async () => (await engine.db.query(`SELECT 1 FROM messages WHERE status = 'received'`)).length === 0,
  );

  // Notices in each state, as the notify and delivery stages leave them.
  const [outbox] = await engine.db.query<{ id: string }>(
    `INSERT INTO outbox (event_key, message_id, kind, payload, status)
     VALUES ('ops-event', 1, 'admission', '{}', 'notified') RETURNING id::text AS id`,
  );
  const states = ['pending', 'retrying', 'delivered', 'delivered', 'delivered', 'failed', 'failed'];
  for (const [i, status] of states.entries()) {
    await engine.db.query(
      `INSERT INTO notifications (notice_id, outbox_id, event_key, kind, channel, target, reasons, status)
       VALUES (gen_random_uuid(), $1, 'ops-event', 'admission', 'webhook', $2, '[]', $3)`,
      [outbox!.id, `Endpoint/e${i}`, status],
    );
  }
  // One written long ago: outside a 24-hour window, inside the metrics' "every kept notice".
  await engine.db.query(
    `INSERT INTO notifications (notice_id, outbox_id, event_key, kind, channel, target, reasons, status, created_at)
     VALUES (gen_random_uuid(), $1, 'ops-event', 'admission', 'webhook', 'Endpoint/old', '[]', 'delivered',
             now() - interval '3 days')`,
    [outbox!.id],
  );
});
afterAll(async () => {
  // Sign-in counts live under the engine's prefix, beside its queues.
  const redis = new Redis(TEST_REDIS_URL, { maxRetriesPerRequest: null });
  const keys = await redis.keys(`${engine.prefix}:console-login:*`);
  if (keys.length > 0) await redis.del(...keys);
  redis.disconnect();
  await engine.destroy();
  rmSync(dir, { recursive: true, force: true });
});

describe('GET /api/operations', () => {
  it('counts messages per sender by outcome, ACK latency, queues and deliveries', async () => {
    const { status, body } = await get('/api/operations?hours=24');
    expect(status).toBe(200);
    expect(Date.now() - Date.parse(body['since'] as string)).toBeGreaterThanOrEqual(24 * 3_600_000 - 60_000);
    expect(body['senders']).toEqual([
      { sender: 'MERCY', received: 4, processed: 2, ignored: 0, failed: 1, rejected: 1, errorRate: 0.5 },
      { sender: 'GHH', received: 3, processed: 3, ignored: 0, failed: 0, rejected: 0, errorRate: 0 },
    ]);
    const ack = body['ack'] as Record<string, number>;
    expect(ack['count']).toBe(7);
    expect(ack['p50Ms']).toBeGreaterThan(0);
    expect(ack['p95Ms']).toBeGreaterThanOrEqual(ack['p50Ms']!);
    expect(ack['p99Ms']).toBeGreaterThanOrEqual(ack['p95Ms']!);
    const queues = body['queues'] as { name: string; delayed: number; waiting: number; failed: number }[];
    expect(queues.map((q) => q.name)).toEqual(['process', 'notify', 'deliver', 'replay', 'maintenance']);
    // The retention purge's next turn waits in the maintenance queue; the failed message's job failed.
    expect(queues.find((q) => q.name === 'maintenance')?.delayed).toBe(1);
    expect(queues.find((q) => q.name === 'process')?.failed).toBe(1);
    expect(body['deliveries']).toEqual({ pending: 1, retrying: 1, delivered: 3, failed: 2 });
  });

  it('takes the window in hours, 1 to 720, and nothing else', async () => {
    expect((await get('/api/operations')).status).toBe(200);
    for (const q of ['hours=0', 'hours=721', 'hours=abc', 'days=1', 'hours=1&hours=2']) {
      const answer = await get(`/api/operations?${q}`);
      expect(answer.status, q).toBe(400);
      expect(answer.body['resourceType']).toBe('OperationOutcome');
    }
    const week = await get('/api/operations?hours=720');
    expect(week.body['deliveries']).toEqual({ pending: 1, retrying: 1, delivered: 4, failed: 2 });
  });

  it('needs Operations.r', async () => {
    const other = await client.token(base, 'system/Message.rs');
    expect((await get('/api/operations', other)).status).toBe(403);
    expect((await fetch(`${base}/api/operations`)).status).toBe(401);
  });

  it('is open to an analyst session', async () => {
    const jar = await signIn('ann');
    const res = await consoleRequest(`${base}/api/operations`, { headers: { cookie: jar.header() } });
    expect(res.status).toBe(200);
    expect(res.json?.['senders']).toHaveLength(2);
  });
});

describe('/metrics', () => {
  it('carries the same figures: messages per sender, outcomes, queue depths and notice states', async () => {
    const text = await (await fetch(`${base}/metrics`)).text();
    expect(text).toMatch(/^messages_received_total\{sender="GHH"\} 3$/m);
    expect(text).toMatch(/^messages_received_total\{sender="MERCY"\} 4$/m);
    expect(text).toMatch(/^messages_processed_total\{sender="GHH",status="processed"\} 3$/m);
    expect(text).toMatch(/^messages_processed_total\{sender="MERCY",status="processed"\} 2$/m);
    expect(text).toMatch(/^messages_processed_total\{sender="MERCY",status="failed"\} 1$/m);
    expect(text).toMatch(/^mllp_ack_latency_seconds_count 7$/m);
    expect(text).toMatch(/^queue_jobs\{queue="maintenance",state="delayed"\} 1$/m);
    expect(text).toMatch(/^queue_jobs\{queue="replay",state="waiting"\} 0$/m);
    expect(text).toMatch(/^notification_states\{status="delivered"\} 4$/m);
    expect(text).toMatch(/^notification_states\{status="failed"\} 2$/m);
    expect(text).toMatch(/^notification_states\{status="pending"\} 1$/m);
  });
});

describe('Bull Board at /console/queues', () => {
  it('sends a browser without a session to the sign-in and answers anything else 401', async () => {
    const page = await consoleRequest(`${base}/console/queues`, { headers: { accept: 'text/html' } });
    expect(page.status).toBe(302);
    expect(page.headers.location).toBe('/console/');
    const api = await consoleRequest(`${base}/console/queues/api/queues`, {
      headers: { accept: 'application/json' },
    });
    expect(api.status).toBe(401);
    expect(api.json?.['resourceType']).toBe('OperationOutcome');
    const asset = await consoleRequest(`${base}/console/queues/static/js/main.js`);
    expect([302, 401]).toContain(asset.status);
  });

  it('refuses an analyst session and a token without Queue.u', async () => {
    const jar = await signIn('ann');
    const res = await consoleRequest(`${base}/console/queues`, {
      headers: { cookie: jar.header(), accept: 'text/html' },
    });
    expect(res.status).toBe(403);
    const noQueue = await client.token(base, 'system/Operations.rs');
    const bearer = await consoleRequest(`${base}/console/queues/api/queues`, {
      headers: { authorization: `Bearer ${noQueue}` },
    });
    expect(bearer.status).toBe(403);
  });

  it('shows an admin session the board and the engine queues', async () => {
    const jar = await signIn('ada');
    const page = await consoleRequest(`${base}/console/queues`, {
      headers: { cookie: jar.header(), accept: 'text/html' },
    });
    expect(page.status).toBe(200);
    expect(page.headers['content-type']).toMatch(/text\/html/);
    expect(page.text).toContain('<base href="/console/queues/"');
    const api = await consoleRequest(`${base}/console/queues/api/queues`, {
      headers: { cookie: jar.header(), accept: 'application/json' },
    });
    expect(api.status).toBe(200);
    const names = ((api.json?.['queues'] ?? []) as { name: string }[]).map((q) => q.name).sort();
    expect(names).toEqual(['deliver', 'maintenance', 'notify', 'process', 'replay']);

    // A change from the board's own page (same origin) passes; one from elsewhere does not.
    const crossSite = await consoleRequest(`${base}/console/queues/api/queues/replay/pause`, {
      method: 'PUT',
      headers: { cookie: jar.header(), origin: 'https://evil.example' },
    });
    expect(crossSite.status).toBe(403);
    const pause = await consoleRequest(`${base}/console/queues/api/queues/replay/pause`, {
      method: 'PUT',
      headers: { cookie: jar.header(), origin: new URL(base).origin },
    });
    expect(pause.status).toBe(200);
    expect(await engine.replayQueue.isPaused()).toBe(true);
    await engine.replayQueue.resume();
  });

  it('admits a script whose token allows Queue.u', async () => {
    const queueToken = await client.token(base, 'system/Queue.u');
    const res = await consoleRequest(`${base}/console/queues/api/queues`, {
      headers: { authorization: `Bearer ${queueToken}` },
    });
    expect(res.status).toBe(200);
    expect(((res.json?.['queues'] ?? []) as unknown[]).length).toBe(5);
  });
});
