/**
 * Re-adding a job whose id BullMQ still keeps as failed is silently a no-op, so a row whose job
 * failed without the row saying so (a worker killed too often: "job stalled more than allowable
 * limit") would never be queued again. The sweeps drop such failed jobs before re-adding; the row,
 * not the job, says whether the work is done.
 */
import type { Queue } from 'bullmq';

/** Removes the jobs among `ids` that BullMQ holds as failed; returns how many. */
export async function dropFailedJobs(queue: Queue, ids: readonly string[]): Promise<number> {
  let dropped = 0;
  for (const id of ids) {
    const job = await queue.getJob(id);
    if (job !== undefined && (await job.isFailed())) {
      await job.remove();
      dropped++;
    }
  }
  return dropped;
}
