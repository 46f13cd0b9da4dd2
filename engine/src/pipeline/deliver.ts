/**
 * The delivery stage: one outbox event in, its outcome recorded on the row. Who receives an
 * event is a `RecipientResolver`'s answer; sending is each recipient's own. A failure that may
 * pass (an endpoint away) retries with backoff; the row says what happened either way, so no
 * event ends without a recorded outcome.
 */
import { UnrecoverableError, Worker, type ConnectionOptions, type Job } from 'bullmq';
import { isTransient } from '../errors/coded-error';
import { describeError } from '../observability/describe-error';
import type { Logger } from '../observability/logger';
import type { Db, Queryable } from '../store/db';
import { finishOutboxRow, lockOutboxRow, type OutboxRow } from '../store/outbox';
import { createDeliverQueue, DELIVER_QUEUE, type DeliverJobData } from '../queue/deliver-queue';
import type { RegisteredWorker } from '../queue/queue-registry';

/** Someone an event goes to, and how to send it to them. */
export interface Recipient {
  /** For the record: `Endpoint/<id>` or similar; never a name. */
  readonly id: string;
  send(event: OutboxRow): Promise<void>;
}

/**
 * Finds an event's recipients. The engine's resolver knows no recipient until PCP attribution
 * and endpoints are registered (the notification work); until then each event is recorded as
 * `no-recipient`, which an analyst can see and count.
 */
export type RecipientResolver = (event: OutboxRow, tx: Queryable) => Promise<readonly Recipient[]>;

export interface DeliverDeps {
  readonly db: Db;
  readonly resolve: RecipientResolver;
  readonly logger: Logger;
}

export type DeliverOutcome = 'delivered' | 'no-recipient' | 'already-finished' | 'missing';

/** Delivers one event; pure of BullMQ. Throws to retry (transient) or give up (permanent). */
export async function runDeliver(
  data: DeliverJobData,
  deps: DeliverDeps,
  lastAttempt = true,
): Promise<DeliverOutcome> {
  const log = deps.logger.child({ traceId: data.traceId, outboxId: data.outboxId });
  try {
    return await deps.db.transaction(async (tx) => {
      const row = await lockOutboxRow(tx, data.outboxId);
      if (row === undefined) return 'missing';
      if (row.status !== 'pending') return 'already-finished';
      const recipients = await deps.resolve(row, tx);
      if (recipients.length === 0) {
        await finishOutboxRow(tx, row.id, 'no-recipient');
        log.info({ kind: row.kind }, 'event has no recipient');
        return 'no-recipient';
      }
      for (const r of recipients) await r.send(row);
      await finishOutboxRow(tx, row.id, 'delivered', { recipients: recipients.map((r) => r.id) });
      return 'delivered';
    });
  } catch (err) {
    const error = describeError(err);
    if (isTransient(err) && !lastAttempt) {
      log.warn({ err: error }, 'delivery failed, will retry');
      throw err;
    }
    await finishOutboxRow(deps.db, data.outboxId, 'failed', error);
    log.error({ err: error }, 'delivery failed for good');
    throw new UnrecoverableError(`${error.code}: ${error.message}`);
  }
}

export interface DeliverWorkerOptions {
  readonly connection: ConnectionOptions;
  readonly prefix: string;
  readonly concurrency: number;
}

/** The BullMQ worker (and its queue handle) for the delivery stage. */
export function createDeliverWorker(deps: DeliverDeps, o: DeliverWorkerOptions): RegisteredWorker {
  const queue = createDeliverQueue(o.connection, o.prefix);
  const worker = new Worker<DeliverJobData, DeliverOutcome>(
    DELIVER_QUEUE,
    (job: Job<DeliverJobData>) =>
      runDeliver(job.data, deps, job.attemptsMade + 1 >= (job.opts.attempts ?? 1)),
    { connection: o.connection, prefix: o.prefix, concurrency: o.concurrency },
  );
  return { name: DELIVER_QUEUE, queue, worker };
}

/** The resolver in force until attribution exists: nobody, recorded as such. */
export const noRecipients: RecipientResolver = () => Promise.resolve([]);
