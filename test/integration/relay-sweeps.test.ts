/**
 * The sweeps that put lost work back into Redis: every pending outbox row is relayed once per
 * pass however many there are (keyset paging), and a row whose job BullMQ kept as failed without
 * the row saying so (a worker killed too often) is queued again instead of silently skipped.
 */
import { UnrecoverableError, Worker } from 'bullmq';
import { afterEach, describe, expect, it } from 'vitest';
import { relayLeftovers } from '../../engine/src/pipeline/relay-outbox';
import { NOTIFY_QUEUE, notifyJobId } from '../../engine/src/queue/notify-queue';
import {
  finishOutboxRow,
  insertOutboxEvents,
  listUnrelayed,
  lockOutboxRow,
  markRelayed,
} from '../../engine/src/store/outbox';
import { startTestEngine, waitFor, type TestEngine } from '../helpers/test-engine';
import { TEST_REDIS_URL } from '../helpers/test-db';

const engines: TestEngine[] = [];
afterEach(async () => {
  await Promise.all(engines.splice(0).map((e) => e.destroy()));
});

async function engineWithoutWorkers(): Promise<TestEngine> {
  const engine = await startTestEngine({ parts: { ingest: false, worker: false, http: false } });
  engines.push(engine);
  return engine;
}

function events(
  n: number,
  tag: string,
): { key: string; kind: string; patient: string; payload: Record<string, unknown> }[] {
  return Array.from({ length: n }, (_, i) => ({
    key: `${tag}-${i}`,
    kind: 'admit',
    patient: `Patient/${tag}-${i}`,
    payload: { focus: `Encounter/${tag}-${i}/_history/1`, patient: `Patient/${tag}-${i}` },
  }));
}

describe('outbox sweep', () => {
  it('relays every pending row once in one pass, more than a page of them', async () => {
    const engine = await engineWithoutWorkers();
    await engine.db.transaction((tx) => insertOutboxEvents(tx, '1', events(1_101, 'page')));
    const relayed = await relayLeftovers(engine.db, engine.notifyQueue, 0);
    expect(relayed).toBe(1_101);
    expect(await engine.notifyQueue.getJobCounts('waiting')).toMatchObject({ waiting: 1_101 });
    // A second pass re-adds the same ids, which BullMQ ignores: still one job each.
    await relayLeftovers(engine.db, engine.notifyQueue, 0);
    expect(await engine.notifyQueue.getJobCounts('waiting')).toMatchObject({ waiting: 1_101 });
  }, 30_000);

  it('queues again a pending row whose job BullMQ holds as failed', async () => {
    const engine = await engineWithoutWorkers();
    const [ref] = await engine.db.transaction((tx) => insertOutboxEvents(tx, '1', events(1, 'stale')));
    if (ref === undefined) throw new Error('no outbox row');
    await engine.notifyQueue.add(
      'notify',
      { outboxId: ref.id, traceId: 't' },
      { jobId: notifyJobId(ref), attempts: 1 },
    );
    // A worker that fails the job without touching the row, as a stall-out would.
    const worker = new Worker(
      NOTIFY_QUEUE,
      () => Promise.reject(new UnrecoverableError('job stalled more than allowable limit')),
      { connection: { url: TEST_REDIS_URL }, prefix: engine.prefix },
    );
    await waitFor(
      async () => (await engine.notifyQueue.getJobCounts('failed'))['failed'] === 1,
      10_000,
      'job failed',
    );
    await worker.close();
    await relayLeftovers(engine.db, engine.notifyQueue, 0);
    const job = await engine.notifyQueue.getJob(notifyJobId(ref));
    expect(await job?.getState()).toBe('waiting');
  }, 30_000);
});

describe('outbox relay mark', () => {
  it('skips a row its notify job holds, and the job marks it when it finishes', async () => {
    const engine = await engineWithoutWorkers();
    const [held, free] = await engine.db.transaction((tx) => insertOutboxEvents(tx, '1', events(2, 'held')));
    if (held === undefined || free === undefined) throw new Error('no outbox rows');
    let release = (): void => undefined;
    const gate = new Promise<void>((resolve) => (release = resolve));
    let locked = (): void => undefined;
    const isLocked = new Promise<void>((resolve) => (locked = resolve));
    const job = engine.db.transaction(async (tx) => {
      await lockOutboxRow(tx, held.id);
      locked();
      await gate;
      await finishOutboxRow(tx, held.id, 'notified');
    });
    await isLocked;
    // Waiting for the lock would hold this processing slot for the job's whole transaction.
    const started = performance.now();
    const outcome = await Promise.race([
      markRelayed(engine.db, [held.id, free.id]).then(() => 'marked'),
      new Promise((resolve) => setTimeout(() => resolve('waited for the lock'), 3_000)),
    ]);
    const waitedMs = performance.now() - started;
    release();
    await job;
    expect(outcome).toBe('marked');
    expect(waitedMs).toBeLessThan(3_000);
    const rows = await engine.db.query<{ id: string; status: string; relayed: boolean }>(
      `SELECT id::text AS id, status, relayed_at IS NOT NULL AS relayed FROM outbox ORDER BY id`,
    );
    expect(rows).toEqual([
      { id: held.id, status: 'notified', relayed: true },
      { id: free.id, status: 'pending', relayed: true },
    ]);
    expect(await listUnrelayed(engine.db, new Date(Date.now() + 60_000), 10)).toEqual([
      expect.objectContaining({ id: free.id }),
    ]);
  }, 30_000);
});
