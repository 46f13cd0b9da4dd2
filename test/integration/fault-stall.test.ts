/**
 * A stalled store (sockets open, nothing flowing) still gets an answer: the sender an AE within
 * the timeout budget, /readyz a 503 within 2 s. Once the store flows again the engine recovers by
 * itself, and the message that got AE, resent, gets AA and is processed once.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { adtMessage, MllpTestClient } from '../helpers/mllp-test-client';
import { startTcpProxy, type TcpProxy } from '../helpers/tcp-proxy';
import { startTestEngine, waitFor, type TestEngine } from '../helpers/test-engine';

let engine: TestEngine | undefined;
let proxy: TcpProxy | undefined;
let client: MllpTestClient | undefined;

afterEach(async () => {
  client?.close();
  proxy?.restore();
  await engine?.destroy();
  await proxy?.close();
  client = undefined;
  engine = undefined;
  proxy = undefined;
});

async function readiness(e: TestEngine): Promise<{ ms: number; status: number; body: unknown }> {
  const started = Date.now();
  const res = await fetch(`http://127.0.0.1:${e.httpPort}/readyz`, { signal: AbortSignal.timeout(10_000) });
  const body: unknown = await res.json();
  return { ms: Date.now() - started, status: res.status, body };
}

/** Stalls the proxied store, checks the AE and the 503 budgets, restores and checks recovery. */
async function stallAndRecover(
  e: TestEngine,
  p: TcpProxy,
  controlId: string,
  aeWithinMs: number,
): Promise<void> {
  client = await MllpTestClient.connect(e.mllpPort);
  const c = client;
  expect((await c.send(adtMessage({ controlId: `${controlId}-OK`, mrn: `${controlId}-1` }))).code).toBe('AA');
  expect((await readiness(e)).status).toBe(200);

  p.stall();
  const message = adtMessage({ controlId, mrn: `${controlId}-2` });
  const started = Date.now();
  const during = await c.send(message, 30_000);
  const elapsed = Date.now() - started;
  expect([during.code, during.controlId]).toEqual(['AE', controlId]);
  expect(elapsed).toBeLessThan(aeWithinMs);

  const ready = await readiness(e);
  expect(ready.status).toBe(503);
  expect(ready.ms).toBeLessThan(2_000);

  p.restore();
  await waitFor(async () => (await c.send(message, 15_000)).code === 'AA', 30_000, 'AA once the store flows');
  await waitFor(
    async () =>
      (await e.db.query(`SELECT 1 FROM messages WHERE control_id = $1 AND status = 'processed'`, [controlId]))
        .length === 1,
    30_000,
    `${controlId} processed`,
  );
  const rows = await e.db.query<{ process_count: number }>(
    `SELECT process_count FROM messages WHERE control_id = $1`,
    [controlId],
  );
  expect(rows).toEqual([{ process_count: 1 }]);
  await waitFor(async () => (await readiness(e)).status === 200, 10_000, '/readyz 200 again');
}

describe('stalled stores', () => {
  it('answers AE within the budget and /readyz 503 within 2 s while PostgreSQL is stalled', async () => {
    proxy = await startTcpProxy(5432);
    engine = await startTestEngine({
      env: {
        DATABASE_URL: `postgres://postgres@127.0.0.1:${proxy.port}/test`,
        DATABASE_TIMEOUT_MS: '3000',
      },
      sweepIntervalMs: 500,
      sweepOlderThanMs: 0,
    });
    // The archive insert is the only store step before the ACK: bounded by DATABASE_TIMEOUT_MS.
    await stallAndRecover(engine, proxy, 'PG-STALL', 3_000 + 2_000);
  });

  it('answers AE within the budget and /readyz 503 within 2 s while Redis is stalled', async () => {
    proxy = await startTcpProxy(6379);
    engine = await startTestEngine({
      env: { REDIS_URL: `redis://127.0.0.1:${proxy.port}`, REDIS_TIMEOUT_MS: '2000' },
      sweepIntervalMs: 500,
      sweepOlderThanMs: 0,
    });
    // Archive (PostgreSQL answers) then the enqueue: bounded by REDIS_TIMEOUT_MS.
    await stallAndRecover(engine, proxy, 'RD-STALL', 2_000 + 2_000);
  });

  it('answers every connection AE within the budget while PostgreSQL is stalled, a grouped insert waited for included', async () => {
    proxy = await startTcpProxy(5432);
    engine = await startTestEngine({
      env: { DATABASE_URL: `postgres://postgres@127.0.0.1:${proxy.port}/test`, DATABASE_TIMEOUT_MS: '3000' },
    });
    const e = engine;
    const p = proxy;
    const clients = await Promise.all(Array.from({ length: 6 }, () => MllpTestClient.connect(e.mllpPort)));
    try {
      p.stall();
      // The first message's insert stalls; the next ones arrive while it is in flight and wait for it.
      const timed = clients.map(async (c, i) => {
        await new Promise((resolve) => setTimeout(resolve, i * 400));
        const started = Date.now();
        const ack = await c.send(adtMessage({ controlId: `GRP-${i}`, mrn: `GRP-${i}` }), 30_000);
        return { code: ack.code, ms: Date.now() - started };
      });
      for (const r of await Promise.all(timed)) {
        expect(r.code).toBe('AE');
        expect(r.ms).toBeLessThan(3_000 + 1_000);
      }
    } finally {
      for (const c of clients) c.close();
    }
  });
});
