/**
 * A store connection reset (a PostgreSQL or Redis restart, a middlebox dropping its state) while
 * hundreds of messages are in flight: the engine stays up, in-flight work fails as transient, the
 * senders get AE and resend, and every message acknowledged AA is processed exactly once.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { frameMllp } from '../../engine/src/hl7/mllp-frame-reader';
import { adtMessage, MllpTestClient } from '../helpers/mllp-test-client';
import { startTcpProxy, type TcpProxy } from '../helpers/tcp-proxy';
import { startTestEngine, waitFor, type TestEngine } from '../helpers/test-engine';

const CONNECTIONS = 3;
const PER_CONNECTION = 100;
const TOTAL = CONNECTIONS * PER_CONNECTION;

let engine: TestEngine | undefined;
let proxy: TcpProxy | undefined;
const clients: MllpTestClient[] = [];

afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  proxy?.restore();
  await engine?.destroy();
  await proxy?.close();
  engine = undefined;
  proxy = undefined;
});

function message(controlId: string, connection: number, i: number): string {
  // Ten patients per connection: per-patient order and its hand-over are in play as well.
  return adtMessage({ controlId, mrn: `${controlId.split('-')[0] ?? ''}-P${connection}-${i % 10}` });
}

async function progress(
  e: TestEngine,
  prefix: string,
): Promise<{ processed: number; minRuns: number; maxRuns: number }> {
  const [row] = await e.db.query<{ processed: number; min_runs: number; max_runs: number }>(
    `SELECT count(*) FILTER (WHERE status = 'processed')::int AS processed,
            coalesce(min(process_count), 0)::int AS min_runs, coalesce(max(process_count), 0)::int AS max_runs
       FROM messages WHERE control_id LIKE $1`,
    [`${prefix}-%`],
  );
  return { processed: row?.processed ?? 0, minRuns: row?.min_runs ?? 0, maxRuns: row?.max_runs ?? 0 };
}

/**
 * Sends TOTAL messages over CONNECTIONS sockets without waiting for ACKs, resets the proxy once
 * mid-stream and once while the workers process, then resends every AE until AA, as a sender
 * would. Returns once every message is processed.
 */
async function runThroughResets(e: TestEngine, p: TcpProxy, prefix: string): Promise<void> {
  const ids = (c: number): string[] =>
    Array.from({ length: PER_CONNECTION }, (_, i) => `${prefix}-${c * PER_CONNECTION + i}`);
  for (let c = 0; c < CONNECTIONS; c++) clients.push(await MllpTestClient.connect(e.mllpPort));
  clients.forEach((client, c) => {
    client.write(Buffer.concat(ids(c).map((id, i) => frameMllp(message(id, c, i)))));
  });
  const acked = (): number => clients.reduce((n, c) => n + c.allAcks().length, 0);

  await waitFor(() => Promise.resolve(acked() >= TOTAL / 5), 30_000, 'the first ACKs');
  expect(acked()).toBeLessThan(TOTAL);
  p.reset();
  await Promise.all(clients.map((c) => c.waitForAcks(PER_CONNECTION, 60_000)));

  const codes = new Map<string, string>();
  for (const c of clients) for (const a of c.allAcks()) codes.set(a.controlId ?? '?', a.code ?? '?');
  expect(codes.size).toBe(TOTAL);
  expect([...codes.values()].every((code) => code === 'AA' || code === 'AE')).toBe(true);
  // The second reset lands on processing transactions (and their queue calls), not on ingest.
  expect((await progress(e, prefix)).processed).toBeLessThan(TOTAL);
  p.reset();

  const resend = await MllpTestClient.connect(e.mllpPort);
  clients.push(resend);
  for (const [id, code] of codes) {
    if (code === 'AA') continue;
    const n = Number(id.split('-')[1]);
    const c = Math.floor(n / PER_CONNECTION);
    await waitFor(
      async () => (await resend.send(message(id, c, n % PER_CONNECTION), 15_000)).code === 'AA',
      30_000,
      `AA for ${id} on resend`,
    );
  }
  await waitFor(
    async () => (await progress(e, prefix)).processed === TOTAL,
    45_000,
    'every message processed',
  );
  // Exactly once: a commit whose answer the reset swallowed is not processed again on retry.
  expect(await progress(e, prefix)).toEqual({ processed: TOTAL, minRuns: 1, maxRuns: 1 });
  const [rows] = await e.db.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM messages WHERE control_id LIKE $1`,
    [`${prefix}-%`],
  );
  expect(rows?.n).toBe(TOTAL);

  // Still up and serving without a restart. The producer connection may still be reconnecting
  // from the last reset; a sender resends on AE, as it would for any outage.
  await waitFor(
    async () =>
      (await resend.send(adtMessage({ controlId: `${prefix}-AFTER`, mrn: `${prefix}-AFTER` }))).code === 'AA',
    10_000,
    'AA for a new message after the resets',
  );
  const ready = await fetch(`http://127.0.0.1:${e.httpPort}/readyz`);
  expect(ready.status).toBe(200);
}

describe('connection resets', () => {
  it('survives PostgreSQL resets mid-ingest and mid-processing; every AA is processed once', async () => {
    proxy = await startTcpProxy(5432);
    engine = await startTestEngine({
      env: { DATABASE_URL: `postgres://postgres@127.0.0.1:${proxy.port}/test` },
      sweepIntervalMs: 500,
      sweepOlderThanMs: 0,
    });
    await runThroughResets(engine, proxy, 'PGRST');
  });

  it('survives Redis resets mid-ingest and mid-processing; every AA is processed once', async () => {
    proxy = await startTcpProxy(6379);
    engine = await startTestEngine({
      env: { REDIS_URL: `redis://127.0.0.1:${proxy.port}` },
      sweepIntervalMs: 500,
      sweepOlderThanMs: 0,
      workerOptions: { lockDurationMs: 5_000, stalledIntervalMs: 1_000 },
    });
    await runThroughResets(engine, proxy, 'RDRST');
  });
});
