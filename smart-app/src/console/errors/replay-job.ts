/**
 * What a bulk replay job's progress means to the analyst waiting on it: a sentence, a fraction
 * for the progress bar, and whether to keep asking the engine.
 */
import type { ReplayJob } from '../api/api-types';
import { plural } from '../common/console-format';

/** True once the engine will not change the job any more. */
export function replayFinished(job: ReplayJob): boolean {
  return job.state === 'completed' || job.state === 'failed';
}

/** 0–1 of the messages handled (queued again or skipped). */
export function replayFraction(job: ReplayJob): number {
  if (job.total <= 0) return replayFinished(job) ? 1 : 0;
  return Math.min(1, (job.queued + job.skipped) / job.total);
}

/** "Queued 3 of 5 messages again", "Done: 5 queued again, 1 skipped (rejected)". */
export function replayProgressText(job: ReplayJob): string {
  const skipped = job.skipped > 0 ? `, ${job.skipped} skipped (rejected messages cannot be replayed)` : '';
  switch (job.state) {
    case 'waiting':
      return `Waiting to start: ${plural(job.total, 'message')}.`;
    case 'active':
      return `Queued ${job.queued} of ${plural(job.total, 'message')} again${skipped}.`;
    case 'completed':
      return `Done: ${job.queued} of ${plural(job.total, 'message')} queued again${skipped}.`;
    case 'failed':
      return `The replay stopped after ${job.queued} of ${plural(job.total, 'message')}: ${
        job.failedReason ?? 'no reason given'
      }.`;
  }
}
