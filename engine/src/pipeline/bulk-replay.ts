/**
 * Bulk replay: the messages an analyst chose (by ids or a filter, resolved when asked) are put
 * back to `received` and queued for processing again, a batch at a time, behind live traffic.
 * Progress is recorded on the job after each batch, so a replay interrupted by a crash goes on
 * from the last batch it recorded, and a batch it may have half done is not replayed twice: a
 * message whose processing job of this replay already exists is counted, not reset again.
 * Rejected (and vanished) messages are skipped and counted.
 */
import { Worker, type ConnectionOptions, type Job, type Queue } from 'bullmq';
import type { Logger } from '../observability/logger';
import type { Queryable } from '../store/db';
import { readReplayRefs, resetForReplay, type ReplayRef } from '../store/replay-reset';
import {
  archivedMessageJob,
  JobPriority,
  type ArchivedMessageJob,
  type ProcessJobData,
} from '../queue/process-queue';
import type { RegisteredWorker } from '../queue/queue-registry';
import {
  createReplayQueue,
  REPLAY_QUEUE,
  type ReplayJobData,
  type ReplayProgress,
} from '../queue/replay-queue';

export interface BulkReplayDeps {
  readonly db: Queryable;
  /** Where the replayed messages are queued for processing. */
  readonly queue: Queue<ProcessJobData>;
  readonly logger: Logger;
}

/** One run of a replay job, pure of BullMQ's Job class. */
export interface ReplayRun {
  readonly jobId: string;
  readonly data: ReplayJobData;
  /** What an earlier, interrupted run of the same job recorded. */
  readonly resumeFrom?: ReplayProgress;
  /** Records progress after each batch. */
  report(progress: ReplayProgress): Promise<void>;
}

/** @defaultValue 500 messages per batch */
export const REPLAY_BATCH = 500;

/**
 * The processing job of one message in one replay: a new id (the first run's job may still be
 * kept in Redis and would block a re-add), the same for every run of this replay, so a resumed
 * batch can tell what it already queued. A wake-up after the replayed run parks keeps its own
 * `-w` ids, so the park count is not part of it. Behind live traffic, as any replay.
 */
function replayedJob(ref: ReplayRef, replayJobId: string): ArchivedMessageJob {
  return archivedMessageJob(
    { ...ref, parkCount: 0 },
    { controlId: ref.controlId, priority: JobPriority.Backfill, suffix: `-${replayJobId}` },
  );
}

/** The id of `replayedJob`. */
export function replayedJobId(ref: ReplayRef, replayJobId: string): string {
  return replayedJob(ref, replayJobId).opts.jobId;
}

/** Replays every message of the job, batch by batch; returns the final counts. */
export async function runBulkReplay(
  run: ReplayRun,
  deps: BulkReplayDeps,
  batchSize = REPLAY_BATCH,
): Promise<ReplayProgress> {
  const ids = run.data.messageIds;
  const log = deps.logger.child({ traceId: run.data.traceId, replayJobId: run.jobId });
  const resumed = run.resumeFrom;
  let progress: ReplayProgress = {
    total: ids.length,
    queued: resumed?.queued ?? 0,
    skipped: resumed?.skipped ?? 0,
    position: Math.min(resumed?.position ?? 0, ids.length),
  };
  // Only the first batch of a resumed run can overlap what an interrupted run did.
  let checkExisting = resumed !== undefined;
  if (resumed !== undefined) log.info({ position: progress.position }, 'bulk replay resumed');
  while (progress.position < ids.length) {
    const batch = ids.slice(progress.position, progress.position + batchSize);
    const done = await replayBatch(run.jobId, batch, deps, checkExisting);
    checkExisting = false;
    progress = {
      total: ids.length,
      queued: progress.queued + done.queued,
      skipped: progress.skipped + (batch.length - done.queued),
      position: progress.position + batch.length,
    };
    await run.report(progress);
  }
  log.info(
    { total: progress.total, queued: progress.queued, skipped: progress.skipped, by: run.data.requestedBy },
    'bulk replay finished',
  );
  return progress;
}

/** Resets and queues one batch; returns how many of it are queued. */
async function replayBatch(
  replayJobId: string,
  batch: readonly string[],
  deps: BulkReplayDeps,
  checkExisting: boolean,
): Promise<{ queued: number }> {
  let already = 0;
  let toReset = batch;
  if (checkExisting) {
    const existing = new Set<string>();
    for (const ref of await readReplayRefs(deps.db, batch)) {
      if ((await deps.queue.getJob(replayedJobId(ref, replayJobId))) !== undefined) existing.add(ref.id);
    }
    already = existing.size;
    toReset = batch.filter((id) => !existing.has(id));
  }
  const refs = await resetForReplay(deps.db, toReset);
  // A crash between the reset and this add leaves the messages `received`: the recovery sweep
  // queues them, and a resumed run queues them again, which processing shrugs off. The queue's
  // own defaults (attempts, backoff, kept for an hour) apply as to any process job.
  await deps.queue.addBulk(refs.map((ref) => replayedJob(ref, replayJobId)));
  return { queued: already + refs.length };
}

/** Reads the progress an earlier run recorded on the job, if it has any. */
export function recordedProgress(progress: unknown): ReplayProgress | undefined {
  if (typeof progress !== 'object' || progress === null) return undefined;
  const p = progress as Partial<Record<keyof ReplayProgress, unknown>>;
  const n = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v) && v >= 0;
  return n(p.total) && n(p.queued) && n(p.skipped) && n(p.position)
    ? { total: p.total, queued: p.queued, skipped: p.skipped, position: p.position }
    : undefined;
}

export interface ReplayWorkerOptions {
  readonly connection: ConnectionOptions;
  readonly prefix: string;
}

/** The replay queue's worker (and its queue handle): one bulk replay at a time. */
export function createReplayWorker(deps: BulkReplayDeps, o: ReplayWorkerOptions): RegisteredWorker {
  const queue = createReplayQueue(o.connection, o.prefix);
  const worker = new Worker<ReplayJobData, ReplayProgress>(
    REPLAY_QUEUE,
    (job: Job<ReplayJobData>) => {
      const resumeFrom = recordedProgress(job.progress);
      return runBulkReplay(
        {
          jobId: job.id ?? '',
          data: job.data,
          ...(resumeFrom !== undefined ? { resumeFrom } : {}),
          report: (p) => job.updateProgress({ ...p }),
        },
        deps,
      );
    },
    // Replays queue behind live traffic anyway; one at a time keeps their order readable.
    { connection: o.connection, prefix: o.prefix, concurrency: 1 },
  );
  return { name: REPLAY_QUEUE, queue, worker };
}
