/**
 * The queue between a notice and its endpoint: one job per `notifications` row (one event, one
 * recipient). Retries are the job's: backoff with jitter, or the endpoint's `Retry-After`, is
 * worked out by the delivery worker's backoff strategy from the error it threw.
 */
import { Queue, type ConnectionOptions, type JobsOptions } from 'bullmq';

export const DELIVER_QUEUE = 'deliver';

/** The custom backoff the delivery worker implements (see pipeline/deliver.ts). */
export const DELIVERY_BACKOFF = 'notice';

export interface DeliverJobData {
  readonly notificationId: string;
  readonly traceId: string;
}

/** What names a notice's delivery job: its row id and creation time (ids repeat in a new database). */
export interface NotificationRef {
  readonly id: string;
  readonly stamp: string;
}

/** Job options; `attempts` comes from NOTIFY_MAX_ATTEMPTS. */
export function deliverJobOptions(maxAttempts: number): JobsOptions {
  return {
    attempts: maxAttempts,
    backoff: { type: DELIVERY_BACKOFF },
    removeOnComplete: { age: 3600, count: 50_000 },
    removeOnFail: { age: 7 * 24 * 3600 },
  };
}

export function deliverJobId(ref: NotificationRef, round = 0): string {
  // A retry an analyst asks for after the notice failed for good is a new job (BullMQ keeps the
  // failed one's id), so the round is part of the id.
  return round === 0 ? `n-${ref.id}-${ref.stamp}` : `n-${ref.id}-${ref.stamp}-r${round}`;
}

/** Opens the producer side of the delivery queue. */
export function createDeliverQueue(
  connection: ConnectionOptions,
  prefix: string,
  maxAttempts: number,
): Queue<DeliverJobData> {
  return new Queue<DeliverJobData>(DELIVER_QUEUE, {
    connection,
    prefix,
    defaultJobOptions: deliverJobOptions(maxAttempts),
  });
}
