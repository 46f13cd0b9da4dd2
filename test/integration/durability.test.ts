/**
 * The archive is the system of record: messages survive Redis losing its data and a worker
 * killed mid-job, and a heavy multi-connection run loses nothing and processes nothing twice.
 */
import { spawn } from 'node:child_process';
import { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import { frameMllp } from '../../engine/src/hl7/mllp-frame-reader';
import { adtMessage, MllpTestClient } from '../helpers/mllp-test-client';
import { TEST_DATABASE_URL, TEST_REDIS_URL } from '../helpers/test-db';
import { dropEngineData, startTestEngine, waitFor, type TestEngine } from '../helpers/test-engine';

const engines: TestEngine[] = [];
afterEach(async () => {
  for (const e of engines.splice(0)) await e.stop().catch(() => undefined);
});

async function counts(
  engine: TestEngine,
  like: string,
): Promise<{ total: number; done: number; maxRuns: number }> {
  const [row] = await engine.db.query<{ total: number; done: number; max_runs: number }>(
    `SELECT count(*)::int AS total, count(*) FILTER (WHERE status = 'processed')::int AS done,
            coalesce(max(process_count), 0)::int AS max_runs
       FROM messages WHERE control_id LIKE $1`,
    [like],
  );
  return { total: row?.total ?? 0, done: row?.done ?? 0, maxRuns: row?.max_runs ?? 0 };
}

/** Sends `n` messages over `connections` sockets, pipelined, and returns the ACK codes. */
async function sendMany(port: number, prefix: string, n: number, connections: number): Promise<string[]> {
  const clients = await Promise.all(Array.from({ length: connections }, () => MllpTestClient.connect(port)));
  const perClient = Math.ceil(n / connections);
  await Promise.all(
    clients.map(async (client, c) => {
      const mine = Array.from(
        { length: Math.min(perClient, n - c * perClient) },
        (_, i) => c * perClient + i,
      );
      for (let start = 0; start < mine.length; start += 50) {
        const batch = mine.slice(start, start + 50);
        // Ten patients per connection: per-patient ordering is exercised, not just throughput.
        client.write(
          Buffer.concat(
            batch.map((i) =>
              frameMllp(
                adtMessage({ controlId: `${prefix}-${i}`, mrn: `${prefix}-P${c}-${i % 10}`, event: 'A08' }),
              ),
            ),
          ),
        );
        await client.waitForAcks(start + batch.length, 60_000);
      }
    }),
  );
  const codes = clients.flatMap((c) => c.allAcks().map((a) => a.code ?? '?'));
  for (const c of clients) c.close();
  return codes;
}

async function deleteQueueKeys(prefix: string): Promise<number> {
  const redis = new Redis(TEST_REDIS_URL);
  let deleted = 0;
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
    cursor = next;
    if (keys.length > 0) deleted += await redis.del(...keys);
  } while (cursor !== '0');
  redis.disconnect();
  return deleted;
}

describe('durability', () => {
  it('takes 10,000 messages over 4 connections with no loss and no duplicate processing', async () => {
    const engine = await startTestEngine({ env: { WORKER_CONCURRENCY: '8' } });
    engines.push(engine);
    const codes = await sendMany(engine.mllpPort, 'LOAD', 10_000, 4);
    expect(codes.filter((c) => c === 'AA')).toHaveLength(10_000);
    await waitFor(async () => (await counts(engine, 'LOAD-%')).done === 10_000, 240_000, 'all processed');
    expect(await counts(engine, 'LOAD-%')).toEqual({ total: 10_000, done: 10_000, maxRuns: 1 });
    // Per-patient order: within each patient, processing order equals arrival (archive id) order.
    const outOfOrder = await engine.db.query(
      `SELECT count(*)::int AS n FROM (
         SELECT id, lag(id) OVER (PARTITION BY patient_key ORDER BY processed_at) AS prev_id
           FROM messages WHERE control_id LIKE 'LOAD-%') t
        WHERE prev_id > id`,
    );
    expect(outOfOrder).toEqual([{ n: 0 }]);
    await engine.destroy();
  }, 300_000);

  it('loses nothing when Redis loses its data mid-run', async () => {
    // Ingest-only engine: jobs pile up in Redis, then Redis "restarts empty".
    const first = await startTestEngine({ parts: { ingest: true, worker: false, http: true } });
    engines.push(first);
    const codes = await sendMany(first.mllpPort, 'FLUSH', 500, 2);
    expect(codes.every((c) => c === 'AA')).toBe(true);
    expect(await deleteQueueKeys(first.prefix)).toBeGreaterThan(0);
    await first.stop();
    engines.pop();

    const second = await startTestEngine({ reuse: { schema: first.schema, prefix: first.prefix } });
    engines.push(second);
    await waitFor(
      async () => (await counts(second, 'FLUSH-%')).done === 500,
      60_000,
      'recovered messages processed',
    );
    expect(await counts(second, 'FLUSH-%')).toEqual({ total: 500, done: 500, maxRuns: 1 });
    await second.destroy();
  }, 120_000);

  it('recovers without a restart: the sweep re-queues what a flushed Redis forgot', async () => {
    const engine = await startTestEngine({
      sweepIntervalMs: 300,
      sweepOlderThanMs: 500,
      env: { WORKER_CONCURRENCY: '1' },
    });
    engines.push(engine);
    await engine.queue.pause();
    const codes = await sendMany(engine.mllpPort, 'SWEEP', 200, 1);
    expect(codes.every((c) => c === 'AA')).toBe(true);
    await deleteQueueKeys(engine.prefix);
    await engine.queue.resume();
    await waitFor(
      async () => (await counts(engine, 'SWEEP-%')).done === 200,
      60_000,
      'swept messages processed',
    );
    expect((await counts(engine, 'SWEEP-%')).maxRuns).toBe(1);
    await engine.destroy();
  }, 120_000);

  it('processes a message exactly once when its worker is killed mid-job', async () => {
    const ingest = await startTestEngine({ parts: { ingest: true, worker: false, http: true } });
    engines.push(ingest);
    const env = {
      ...process.env,
      MLLP_PORT: '0',
      MLLP_HOST: '127.0.0.1',
      HTTP_PORT: '0',
      REDIS_URL: TEST_REDIS_URL,
      QUEUE_PREFIX: ingest.prefix,
      DATABASE_URL: TEST_DATABASE_URL,
      DATABASE_SCHEMA: ingest.schema,
      LOG_LEVEL: 'silent',
      WORKER_CONCURRENCY: '4',
    };
    const child = spawn(process.execPath, ['--import', 'tsx', 'test/helpers/worker-process.ts'], {
      env,
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    await new Promise<void>((resolve, reject) => {
      child.stdout.on('data', (d: Buffer) => {
        if (d.toString().includes('ready')) resolve();
      });
      child.once('exit', (code) => reject(new Error(`worker exited early (${code})`)));
    });
    const codes = await sendMany(ingest.mllpPort, 'KILL', 400, 2);
    expect(codes.every((c) => c === 'AA')).toBe(true);
    await waitFor(async () => (await counts(ingest, 'KILL-%')).done >= 20, 60_000, 'some processed');
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));
    const atKill = await counts(ingest, 'KILL-%');
    expect(atKill.done).toBeLessThan(400);

    await ingest.stop();
    engines.pop();
    const survivor = await startTestEngine({
      reuse: { schema: ingest.schema, prefix: ingest.prefix },
      workerOptions: { lockDurationMs: 1_000, stalledIntervalMs: 500 },
    });
    engines.push(survivor);
    await waitFor(
      async () => (await counts(survivor, 'KILL-%')).done === 400,
      90_000,
      'all processed after the kill',
    );
    expect(await counts(survivor, 'KILL-%')).toEqual({ total: 400, done: 400, maxRuns: 1 });
    await survivor.stop();
    engines.pop();
    await dropEngineData(ingest.schema, ingest.prefix);
  }, 180_000);
});
