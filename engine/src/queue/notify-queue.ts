/**
 * The queue between the outbox and attribution: one job per committed event, carrying the outbox
 * row's id only. The row is the truth about whether the event's recipients were worked out.
 */
import { Queue, type ConnectionOptions, type JobsOptions } from 'bullmq';
import type { OutboxRef } from '../store/outbox';

export const NOTIFY_QUEUE = 'notify';

export interface NotifyJobData {
  readonly outboxId: string;
  /** The trace of the message whose processing made the event. */
  readonly traceId: string;
}

export const notifyJobOptions: JobsOptions = {
  attempts: 10,
  backoff: { type: 'exponential', delay: 500 },
  removeOnComplete: { age: 3600, count: 50_000 },
  removeOnFail: { age: 7 * 24 * 3600 },
};

/** Row id and creation time: ids alone repeat when the database is new and Redis is not. */
export function notifyJobId(ref: OutboxRef): string {
  return `e-${ref.id}-${ref.stamp}`;
}

/** Opens the producer side of the notify queue. */
export function createNotifyQueue(connection: ConnectionOptions, prefix: string): Queue<NotifyJobData> {
  return new Queue<NotifyJobData>(NOTIFY_QUEUE, { connection, prefix, defaultJobOptions: notifyJobOptions });
}
