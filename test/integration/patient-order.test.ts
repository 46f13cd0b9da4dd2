/**
 * Per-patient order by hand-over, across processes: a burst for few patients, processed by three
 * worker processes (the `npm start` worker role), must finish every message once, in arrival
 * order per patient, without retries, in time linear in the burst.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { frameMllp } from '../../engine/src/hl7/mllp-frame-reader';
import { startWorkerProcess, type WorkerProcess } from '../../engine/src/cli/worker-process';
import { enqueueMessage, messageJobId } from '../../engine/src/queue/process-queue';
import { adtMessage, MllpTestClient } from '../helpers/mllp-test-client';
import { TEST_DATABASE_URL, TEST_REDIS_URL } from '../helpers/test-db';
import { startTestEngine, waitFor, type TestEngine } from '../helpers/test-engine';

let engine: TestEngine | undefined;
const workers: WorkerProcess[] = [];

afterEach(async () => {
  await Promise.all(workers.splice(0).map((w) => w.stop()));
  await engine?.destroy();
  engine = undefined;
});

/** Sends `n` A08s round-robin over `patients` MRNs on one connection, 100 frames a write. */
async function sendBurst(port: number, prefix: string, n: number, patients: number): Promise<number> {
  const client = await MllpTestClient.connect(port);
  for (let start = 0; start < n; start += 100) {
    const frames = [];
    for (let i = start; i < Math.min(n, start + 100); i++) {
      frames.push(
        frameMllp(
          adtMessage({ controlId: `${prefix}-${i}`, mrn: `${prefix}-P${i % patients}`, event: 'A08' }),
        ),
      );
    }
    client.write(Buffer.concat(frames));
    await client.waitForAcks(Math.min(n, start + 100), 60_000);
  }
  const aa = client.allAcks().filter((a) => a.code === 'AA').length;
  client.close();
  return aa;
}

describe('per-patient order', () => {
  it('keeps arrival order for 2,000 messages of 5 patients across 3 worker processes, with no retries', async () => {
    engine = await startTestEngine({ parts: { ingest: true, worker: false, http: false } });
    const env = {
      ...process.env,
      REDIS_URL: TEST_REDIS_URL,
      QUEUE_PREFIX: engine.prefix,
      DATABASE_URL: TEST_DATABASE_URL,
      DATABASE_SCHEMA: engine.schema,
      MAPPINGS_DIR: './mappings',
      LOG_LEVEL: 'silent',
      WORKER_CONCURRENCY: '2',
    };
    workers.push(...(await Promise.all([1, 2, 3].map(() => startWorkerProcess({ env, niceness: 0 })))));

    const started = Date.now();
    expect(await sendBurst(engine.mllpPort, 'ORD', 2_000, 5)).toBe(2_000);
    const done = async (): Promise<number> => {
      const [row] = await engine!.db.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM messages WHERE control_id LIKE 'ORD-%' AND status = 'processed'`,
      );
      return row?.n ?? 0;
    };
    await waitFor(async () => (await done()) === 2_000, 120_000, '2,000 processed');
    const seconds = (Date.now() - started) / 1000;

    const [stats] = await engine.db.query<{ runs: number; parks: number; patients: number }>(
      `SELECT max(process_count)::int AS runs, sum(park_count)::int AS parks, count(DISTINCT patient_key)::int AS patients
         FROM messages WHERE control_id LIKE 'ORD-%'`,
    );
    expect(stats).toMatchObject({ runs: 1, patients: 5 });
    // Within each patient, finishing order is arrival (archive id) order.
    const [order] = await engine.db.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM (
         SELECT id, lag(id) OVER (PARTITION BY patient_key ORDER BY processed_at, id) AS prev_id
           FROM messages WHERE control_id LIKE 'ORD-%') t
        WHERE prev_id > id`,
    );
    expect(order).toEqual({ n: 0 });
    // No attempt was spent waiting: parked jobs complete, and nothing retried or failed.
    const counts = await engine.queue.getJobCounts('failed', 'delayed', 'waiting', 'active', 'prioritized');
    expect(counts).toEqual({ failed: 0, delayed: 0, waiting: 0, active: 0, prioritized: 0 });
    const completed = await engine.queue.getJobs(['completed'], 0, -1);
    const retried = completed.filter((j) => j.attemptsMade > 1);
    expect(
      retried.map((j) => ({
        id: j.id,
        attempts: j.attemptsMade,
        why: (j.stacktrace ?? []).map((t) => t.split('\n')[0]),
      })),
    ).toEqual([]);
    // Linear: the earlier 25 ms polling took minutes here; hand-over takes seconds.
    expect(seconds).toBeLessThan(90);
    console.info(
      `patient-order: 2,000 messages, 5 patients, 3 processes: ${seconds.toFixed(1)} s, ${stats?.parks ?? 0} parks`,
    );
  }, 180_000);

  it('parks behind an earlier message whose job comes late; the earlier one, failing, hands over', async () => {
    engine = await startTestEngine({ env: { WORKER_CONCURRENCY: '4' } });
    await engine.queue.pause();
    // The first message cannot be mapped (an OBX without a code): it fails for good.
    const failing = [
      'MSH|^~\\&|LAB|GHH|CARE|CARE|20261125070000-0500||ORU^R01^ORU_R01|PARK-0|P|2.5.1',
      'PID|1||PARK-P^^^GHH^MR||Doe^Jane||19800101|F',
      'OBR|1|PL1|FL1|24323-8^Panel^LN|||20261125070000-0500',
      'OBX|1|NM|||5|mg/dL|||||F',
    ].join('\r');
    const client = await MllpTestClient.connect(engine.mllpPort);
    expect((await client.send(failing)).code).toBe('AA');
    for (let i = 1; i <= 30; i++) {
      expect(
        (await client.send(adtMessage({ controlId: `PARK-${i}`, mrn: 'PARK-P', event: 'A08' }))).code,
      ).toBe('AA');
    }
    client.close();
    // Its job is late (lost, say, and not yet swept): the 30 after it run first.
    const [first] = await engine.db.query<{ id: string; stamp: string }>(
      `SELECT id::text AS id, (extract(epoch FROM received_at) * 1000000)::bigint::text AS stamp
         FROM messages WHERE control_id = 'PARK-0'`,
    );
    const firstJobId = messageJobId({ id: first!.id, stamp: first!.stamp, parkCount: 0 });
    expect(await engine.queue.remove(firstJobId)).toBe(1);
    await engine.queue.resume();
    const state = async (): Promise<{
      parked: number;
      received: number;
      processed: number;
      failed: number;
    }> => {
      const [row] = await engine!.db.query<{
        parked: number;
        received: number;
        processed: number;
        failed: number;
      }>(
        `SELECT count(*) FILTER (WHERE parked)::int AS parked,
                count(*) FILTER (WHERE status = 'received')::int AS received,
                count(*) FILTER (WHERE status = 'processed')::int AS processed,
                count(*) FILTER (WHERE status = 'failed')::int AS failed
           FROM messages WHERE control_id LIKE 'PARK-%'`,
      );
      return row!;
    };
    await waitFor(async () => (await state()).parked === 30, 20_000, 'all 30 parked');
    expect(await state()).toEqual({ parked: 30, received: 31, processed: 0, failed: 0 });
    expect(await engine.queue.getJobCounts('waiting', 'active', 'delayed')).toEqual({
      waiting: 0,
      active: 0,
      delayed: 0,
    });

    // The late job arrives: it fails, and hands over down the chain.
    await enqueueMessage(
      engine.queue,
      { messageId: first!.id, controlId: 'PARK-0', traceId: 't' },
      `${firstJobId}-late`,
    );
    await waitFor(async () => (await state()).processed === 30, 20_000, 'the chain processed');
    expect(await state()).toEqual({ parked: 0, received: 0, processed: 30, failed: 1 });
    const rows = await engine.db.query<{ control_id: string; park_count: number; process_count: number }>(
      `SELECT control_id, park_count, process_count FROM messages WHERE control_id LIKE 'PARK-%' ORDER BY processed_at, id`,
    );
    expect(rows.map((r) => r.control_id)).toEqual([
      'PARK-0',
      ...Array.from({ length: 30 }, (_, i) => `PARK-${i + 1}`),
    ]);
    // Each waited once and ran once: woken by its predecessor, not by polling.
    expect(rows.slice(1).every((r) => r.park_count === 1 && r.process_count === 1)).toBe(true);
  }, 60_000);

  it('orders a merge with both patients: a later message of either waits for it', async () => {
    engine = await startTestEngine({ env: { WORKER_CONCURRENCY: '4' } });
    const a40 = [
      'MSH|^~\\&|EPIC|GHH|CARE|CARE|20261125090000-0500||ADT^A40^ADT_A39|MRG-1|P|2.5.1',
      'EVN|A40|20261125090000-0500',
      'PID|1||KEEP^^^GHH^MR||Doe^Jane||19800101|F',
      'MRG|GONE^^^GHH^MR',
    ].join('\r');
    await engine.queue.pause();
    const client = await MllpTestClient.connect(engine.mllpPort);
    await client.send(adtMessage({ controlId: 'MRG-0', mrn: 'GONE', event: 'A08' }));
    await client.send(a40);
    await client.send(adtMessage({ controlId: 'MRG-2', mrn: 'GONE', event: 'A08' }));
    await client.send(adtMessage({ controlId: 'MRG-3', mrn: 'KEEP', event: 'A08' }));
    client.close();
    const keys = await engine.db.query<{
      control_id: string;
      patient_key: string;
      order_keys: string[] | null;
    }>(`SELECT control_id, patient_key, order_keys FROM messages WHERE control_id LIKE 'MRG-%' ORDER BY id`);
    expect(keys.find((k) => k.control_id === 'MRG-1')).toEqual({
      control_id: 'MRG-1',
      patient_key: 'GHH|KEEP',
      order_keys: ['GHH|GONE'],
    });
    await engine.queue.resume();
    await waitFor(
      async () =>
        (
          await engine!.db.query(
            `SELECT 1 FROM messages WHERE control_id LIKE 'MRG-%' AND status = 'processed'`,
          )
        ).length === 4,
      20_000,
      'merge and neighbours processed',
    );
    const finished = await engine.db.query<{ control_id: string }>(
      `SELECT control_id FROM messages WHERE control_id LIKE 'MRG-%' ORDER BY processed_at, id`,
    );
    const at = (c: string): number => finished.findIndex((f) => f.control_id === c);
    expect(at('MRG-0')).toBeLessThan(at('MRG-1'));
    expect(at('MRG-1')).toBeLessThan(at('MRG-2'));
    expect(at('MRG-1')).toBeLessThan(at('MRG-3'));
  }, 60_000);
});
