/**
 * The queue between the outbox and delivery. Jobs carry the outbox row's id only; the row is
 * the truth about whether an event was delivered.
 */
import { Queue, type ConnectionOptions, type JobsOptions } from 'bullmq';
import type { OutboxRef } from '../store/outbox';

export const DELIVER_QUEUE = 'deliver';

export interface DeliverJobData {
  readonly outboxId: string;
  /** The trace of the message whose processing made the event. */
  readonly traceId: string;
}

export const deliverJobOptions: JobsOptions = {
  attempts: 10,
  backoff: { type: 'exponential', delay: 1_000 },
  removeOnComplete: { age: 3600, count: 50_000 },
  removeOnFail: { age: 7 * 24 * 3600 },
};

/** Row id and creation time: ids alone repeat when the database is new and Redis is not. */
export function deliverJobId(ref: OutboxRef): string {
  return `e-${ref.id}-${ref.stamp}`;
}

/** Opens the producer side of the delivery queue. */
export function createDeliverQueue(connection: ConnectionOptions, prefix: string): Queue<DeliverJobData> {
  return new Queue<DeliverJobData>(DELIVER_QUEUE, {
    connection,
    prefix,
    defaultJobOptions: deliverJobOptions,
  });
}
