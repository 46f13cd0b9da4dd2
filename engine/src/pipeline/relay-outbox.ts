/**
 * The outbox relay: committed event rows become notify (attribution) jobs. The processing stage relays its
 * own rows right after commit; a sweep relays whatever a crash between commit and queue left.
 * A row is relayed at least once, and its job id makes a second relay a no-op.
 */
import type { Queue } from 'bullmq';
import { notifyJobId, type NotifyJobData } from '../queue/notify-queue';
import { startPeriodicSweep } from './periodic-sweep';
import { dropFailedJobs } from '../queue/drop-failed-jobs';
import type { Logger } from '../observability/logger';
import type { Queryable } from '../store/db';
import { listUnrelayed, markRelayed, type OutboxRef } from '../store/outbox';

/** Queues attribution of committed outbox rows, then marks them relayed. */
export async function relayOutbox(
  db: Queryable,
  queue: Queue<NotifyJobData>,
  refs: readonly OutboxRef[],
  traceId: string,
): Promise<void> {
  if (refs.length === 0) return;
  await queue.addBulk(
    refs.map((ref) => ({
      name: 'notify',
      data: { outboxId: ref.id, traceId },
      opts: { jobId: notifyJobId(ref) },
    })),
  );
  await markRelayed(
    db,
    refs.map((r) => r.id),
  );
}

/** Relays pending rows left unrelayed (or relayed) for longer than `olderThanMs`; returns how many. */
export async function relayLeftovers(
  db: Queryable,
  queue: Queue<NotifyJobData>,
  olderThanMs: number,
): Promise<number> {
  // One cutoff and keyset paging for the whole pass: the rows just relayed are marked "now",
  // which a cutoff taken later would list again, and the pass would never end.
  const before = new Date(Date.now() - olderThanMs);
  let total = 0;
  let afterId = '0';
  for (;;) {
    const refs = await listUnrelayed(db, before, 500, afterId);
    // The row is pending, so a failed job of the same id is stale (see drop-failed-jobs.ts).
    await dropFailedJobs(queue, refs.map(notifyJobId));
    await relayOutbox(db, queue, refs, 'outbox-sweep');
    total += refs.length;
    const last = refs.at(-1);
    if (refs.length < 500 || last === undefined) return total;
    afterId = last.id;
  }
}

/** Runs `relayLeftovers` every `intervalMs`; the returned function stops it. */
export function startOutboxSweep(
  db: Queryable,
  queue: Queue<NotifyJobData>,
  logger: Logger,
  intervalMs: number,
): () => void {
  return startPeriodicSweep({
    name: 'outbox sweep',
    intervalMs,
    logger,
    run: () => relayLeftovers(db, queue, intervalMs),
    report: (relayed) => logger.info({ relayed }, 'outbox sweep relayed events a crash had left'),
  });
}
