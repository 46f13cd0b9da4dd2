/**
 * The queue of bulk replays: one job per analyst request, carrying the message ids it resolved
 * to (never message content). BullMQ keeps the job and its progress in Redis, so a replay started
 * before a restart goes on after it, from the last batch it recorded.
 */
import { randomUUID } from 'node:crypto';
import { Queue, type ConnectionOptions, type JobsOptions } from 'bullmq';

export const REPLAY_QUEUE = 'replay';

/** What a bulk replay carries: the ids, oldest first, and who asked (for its log lines). */
export interface ReplayJobData {
  readonly messageIds: readonly string[];
  /** The audit subject or client id of the request; an id, never a name from a message. */
  readonly requestedBy: string;
  readonly traceId: string;
}

/** Where a bulk replay stands: `position` ids of `total` looked at so far. */
export interface ReplayProgress {
  readonly total: number;
  readonly queued: number;
  readonly skipped: number;
  readonly position: number;
}

export const replayJobOptions: JobsOptions = {
  // A store or Redis outage mid-way: the retry resumes from the recorded position.
  attempts: 5,
  backoff: { type: 'exponential', delay: 2_000 },
  // The analyst reads the outcome for a week; then it is gone (the audit row stays).
  removeOnComplete: { age: 7 * 24 * 3600 },
  removeOnFail: { age: 30 * 24 * 3600 },
};

/** A new replay job's id: random (ids of the database repeat after a restore), without `:`. */
export function newReplayJobId(): string {
  return `rp-${randomUUID()}`;
}

/** What a replay job id looks like, checked before Redis is asked. */
export const REPLAY_JOB_ID_RE = /^rp-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** Opens the producer side of the replay queue. */
export function createReplayQueue(connection: ConnectionOptions, prefix: string): Queue<ReplayJobData> {
  return new Queue<ReplayJobData>(REPLAY_QUEUE, { connection, prefix, defaultJobOptions: replayJobOptions });
}
