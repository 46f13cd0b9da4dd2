/**
 * The queue that carries archived messages to processing. Job IDs derive from the archive row,
 * so re-adding an unfinished message (a retried send, the recovery sweep) never duplicates work.
 */
import { Queue, type ConnectionOptions, type JobsOptions } from 'bullmq';
import type { MessageJobRef } from '../store/message-archive';

export const PROCESS_QUEUE = 'process';

/** What a processing job carries: IDs only, never message content (PHI stays in the database). */
export interface ProcessJobData {
  readonly messageId: string;
  /** MSH-10, for logs and tracing. */
  readonly controlId: string;
  /** One id a message keeps through every stage's log lines. */
  readonly traceId: string;
}

/**
 * Live feeds first. BullMQ takes jobs without a priority before prioritised ones, so the work a
 * person or a sweep starts (a replay of thousands, re-queued backlog) waits behind live traffic
 * instead of delaying the next admission notice. No sleeps: the queue order is the policy.
 */
export const JobPriority = {
  Live: 0,
  Backfill: 10,
} as const;
export type JobPriority = (typeof JobPriority)[keyof typeof JobPriority];

export const processJobOptions: JobsOptions = {
  attempts: 8,
  backoff: { type: 'exponential', delay: 500 },
  // Completed jobs stay for an hour so a re-add with the same ID within that time is ignored.
  removeOnComplete: { age: 3600, count: 50_000 },
  removeOnFail: { age: 7 * 24 * 3600 },
};

/**
 * Job ID for a message (no `:`: BullMQ reserves it). A wake-up after the message waited for an
 * earlier one of its patient is a new job, since the finished first run keeps its ID in Redis.
 */
export function messageJobId(ref: MessageJobRef): string {
  const base = `m-${ref.id}-${ref.stamp}`;
  return ref.parkCount === 0 ? base : `${base}-w${ref.parkCount}`;
}

/**
 * The trace id of a message: the same in every stage's log lines and on every job that carries
 * it (first run, wake-up, sweep, replay), since it derives from the archive row, not the job.
 */
export function traceIdOf(ref: Pick<MessageJobRef, 'id' | 'stamp'>): string {
  return `t-${ref.id}-${ref.stamp}`;
}

/** Opens the producer side of the processing queue. */
export function createProcessQueue(connection: ConnectionOptions, prefix: string): Queue<ProcessJobData> {
  return new Queue<ProcessJobData>(PROCESS_QUEUE, {
    connection,
    prefix,
    defaultJobOptions: processJobOptions,
  });
}

/** A process job's options: its id, and its priority unless it is live. */
function processJobOpts(jobId: string, priority: JobPriority): JobsOptions & { jobId: string } {
  return { jobId, ...(priority !== JobPriority.Live ? { priority } : {}) };
}

/** Queues a message; resolves once Redis has the job. */
export async function enqueueMessage(
  queue: Queue<ProcessJobData>,
  data: ProcessJobData,
  jobId: string,
  priority: JobPriority = JobPriority.Live,
): Promise<void> {
  await queue.add('process', data, processJobOpts(jobId, priority));
}

export interface QueueArchivedOptions {
  /** MSH-10, for logs; the sweep and hand-overs do not read it. @defaultValue '' */
  readonly controlId?: string;
  /** @defaultValue JobPriority.Live */
  readonly priority?: JobPriority;
  /** Appended to the job id, for a run the row's own id is already used by (a replay). */
  readonly suffix?: string;
}

/** An archived message's process job, as `Queue.add` and `Queue.addBulk` take it. */
export interface ArchivedMessageJob {
  readonly name: 'process';
  readonly data: ProcessJobData;
  readonly opts: JobsOptions & { readonly jobId: string };
}

/**
 * The job of an archived message: its job id and trace id come from the row, so every path that
 * queues one (ingest, hand-over, sweep, replay, bulk replay) names it alike.
 */
export function archivedMessageJob(ref: MessageJobRef, o: QueueArchivedOptions = {}): ArchivedMessageJob {
  return {
    name: 'process',
    data: { messageId: ref.id, controlId: o.controlId ?? '', traceId: traceIdOf(ref) },
    opts: processJobOpts(`${messageJobId(ref)}${o.suffix ?? ''}`, o.priority ?? JobPriority.Live),
  };
}

/** Queues an archived message (see archivedMessageJob). Returns the job id. */
export async function queueArchivedMessage(
  queue: Queue<ProcessJobData>,
  ref: MessageJobRef,
  o: QueueArchivedOptions = {},
): Promise<string> {
  const job = archivedMessageJob(ref, o);
  await queue.add(job.name, job.data, job.opts);
  return job.opts.jobId;
}
