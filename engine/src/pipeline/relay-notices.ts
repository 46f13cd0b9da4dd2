/**
 * Committed notices become delivery jobs. The notify stage relays its own right after commit; a
 * sweep relays whatever a crash between commit and queue left. A notice is queued at least once,
 * and its job id makes a second relay a no-op.
 */
import type { Queue } from 'bullmq';
import { deliverJobId, type DeliverJobData } from '../queue/deliver-queue';
import type { Logger } from '../observability/logger';
import type { Queryable } from '../store/db';
import { listUnqueuedNotices, markNoticesQueued, type NoticeRef } from '../store/notification-store';
import { startPeriodicSweep } from './periodic-sweep';
import { dropFailedJobs } from '../queue/drop-failed-jobs';

export async function relayNotices(
  db: Queryable,
  queue: Queue<DeliverJobData>,
  refs: readonly NoticeRef[],
  traceId: string,
): Promise<void> {
  if (refs.length === 0) return;
  const now = Date.now();
  await queue.addBulk(
    refs.map((ref) => ({
      name: 'deliver',
      data: { notificationId: ref.id, traceId },
      // A notice between attempts keeps its wait (backoff, Retry-After) when its job is re-added.
      opts: {
        jobId: deliverJobId(ref, ref.round),
        ...(ref.dueAt !== undefined && ref.dueAt.getTime() > now ? { delay: ref.dueAt.getTime() - now } : {}),
      },
    })),
  );
  await markNoticesQueued(
    db,
    refs.map((r) => r.id),
  );
}

/**
 * Relays notices left unqueued for longer than `olderThanMs`; returns how many. With 0 (at
 * start-up) every open notice is relayed, one waiting for its next attempt included: Redis may
 * have lost its job with the crash, and re-adding a job that exists is a no-op.
 */
export async function relayLeftoverNotices(
  db: Queryable,
  queue: Queue<DeliverJobData>,
  olderThanMs: number,
): Promise<number> {
  // One cutoff and keyset paging for the whole pass: the rows just relayed are queued "now",
  // which a cutoff taken later would list again, and the pass would never end.
  const before = new Date(Date.now() - olderThanMs);
  let total = 0;
  let afterId: string | undefined;
  for (;;) {
    const refs = await listUnqueuedNotices(db, before, 500, {
      ...(afterId !== undefined ? { afterId } : {}),
      includeWaiting: olderThanMs === 0,
    });
    // The row is open, so a failed job of the same id is stale (see drop-failed-jobs.ts).
    await dropFailedJobs(
      queue,
      refs.map((r) => deliverJobId(r, r.round)),
    );
    await relayNotices(db, queue, refs, 'notice-sweep');
    total += refs.length;
    const last = refs.at(-1);
    if (refs.length < 500 || last === undefined) return total;
    afterId = last.id;
  }
}

export function startNoticeSweep(
  db: Queryable,
  queue: Queue<DeliverJobData>,
  logger: Logger,
  intervalMs: number,
): () => void {
  return startPeriodicSweep({
    name: 'notice sweep',
    intervalMs,
    logger,
    run: () => relayLeftoverNotices(db, queue, intervalMs),
    report: (relayed) => logger.info({ relayed }, 'notice sweep queued notices a crash had left'),
  });
}
