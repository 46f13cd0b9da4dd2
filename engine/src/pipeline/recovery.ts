/**
 * The archive is the record and Redis only schedules: this sweep re-queues every archived message
 * that is not finished, at start-up and then periodically, so a Redis that lost its data (FLUSHALL,
 * a restart without persistence) loses no message.
 */
import type { Queue } from 'bullmq';
import { startPeriodicSweep } from './periodic-sweep';
import type { Logger } from '../observability/logger';
import type { Queryable } from '../store/db';
import { listUnfinished } from '../store/message-archive';
import { JobPriority, messageJobId, queueArchivedMessage, type ProcessJobData } from '../queue/process-queue';

export interface RecoveryOptions {
  /** Only messages received longer ago than this are swept (newer ones are still being queued). */
  readonly olderThanMs: number;
  /** @defaultValue 1000 */
  readonly batchSize?: number;
}

/** Re-queues unfinished messages; returns how many were looked at. */
export async function requeueUnfinished(
  db: Queryable,
  queue: Queue<ProcessJobData>,
  o: RecoveryOptions,
): Promise<number> {
  const before = new Date(Date.now() - o.olderThanMs);
  const batch = o.batchSize ?? 1000;
  let total = 0;
  let refs = await listUnfinished(db, before, batch);
  const seen = new Set<string>();
  while (refs.length > 0) {
    for (const ref of refs) {
      if (seen.has(ref.id)) continue;
      seen.add(ref.id);
      const jobId = messageJobId(ref);
      // A job that ended (failed while the store was down, say) blocks re-adding its ID: clear it.
      const job = await queue.getJob(jobId);
      if (job !== undefined && ((await job.isFailed()) || (await job.isCompleted()))) await job.remove();
      // Behind live traffic: a swept backlog must not delay the next admission.
      await queueArchivedMessage(queue, ref, { priority: JobPriority.Backfill });
      total++;
    }
    if (refs.length < batch) break;
    refs = (await listUnfinished(db, before, batch * 2)).filter((r) => !seen.has(r.id)).slice(0, batch);
  }
  return total;
}

/** Runs the sweep every `intervalMs`; the returned function stops it. */
export function startRecoverySweep(
  db: Queryable,
  queue: Queue<ProcessJobData>,
  logger: Logger,
  intervalMs: number,
  olderThanMs: number,
): () => void {
  return startPeriodicSweep({
    name: 'recovery sweep',
    intervalMs,
    logger,
    run: () => requeueUnfinished(db, queue, { olderThanMs }),
    report: (requeued) => logger.info({ requeued }, 'recovery sweep re-queued unfinished messages'),
  });
}
