/**
 * The delivery stage: one notice to one recipient per job, so a slow or broken endpoint holds
 * up only its own notices. Each attempt is logged. Following the Da Vinci guidance, a 400, 401,
 * 403 or 404 is not resent (the notice is dead-lettered with the reason), a 429 waits as long as
 * `Retry-After` says, and a 5xx, a timeout or a refused connection retries with exponential
 * backoff and jitter. A circuit breaker per endpoint stops hammering one that keeps failing.
 * The notice's id is stable, so a retry whose first answer was lost can be dropped by the
 * receiver: together with the outbox this is exactly-once as the receiver sees it.
 */
import { UnrecoverableError, Worker, type ConnectionOptions, type Job } from 'bullmq';
import { classifyAnswer, classifyError, type DeliveryVerdict } from '../notify/delivery-outcome';
import type { EndpointBreakers } from '../notify/endpoint-breakers';
import type { NoticeSender } from '../notify/notice-senders';
import { DeliveryError, DeliveryErrorCode } from '../notify/notify-error';
import { retryDelayMs } from '../notify/retry-delay';
import { touchSubscription } from '../notify/subscription-lifecycle';
import { describeError } from '../observability/describe-error';
import type { Logger } from '../observability/logger';
import type { EngineMetrics } from '../observability/metrics';
import type { Queryable } from '../store/db';
import { readNotice, recordAttempt, type NoticeChannel } from '../store/notification-store';
import {
  DELIVER_QUEUE,
  DELIVERY_BACKOFF,
  createDeliverQueue,
  type DeliverJobData,
} from '../queue/deliver-queue';
import type { RegisteredWorker } from '../queue/queue-registry';

export interface DeliverDeps {
  readonly db: Queryable;
  readonly senders: Readonly<Partial<Record<NoticeChannel, NoticeSender>>>;
  readonly breakers: EndpointBreakers;
  readonly retry: { readonly baseMs: number; readonly maxMs: number };
  readonly logger: Logger;
  readonly metrics?: EngineMetrics;
}

export type DeliverOutcome = 'delivered' | 'failed' | 'already-finished' | 'missing';

/** Thrown to have BullMQ try again; carries the wait the receiver or the breaker asked for. */
export class RetryLater extends Error {
  override readonly name = 'RetryLater';
  readonly retryAfterMs: number | undefined;
  constructor(reason: string, retryAfterMs: number | undefined) {
    super(reason);
    this.retryAfterMs = retryAfterMs;
  }
}

/** Delivers one notice, attempt `attempt` of `maxAttempts`; pure of BullMQ. */
export async function runDeliver(
  data: DeliverJobData,
  deps: DeliverDeps,
  attempt: number,
  maxAttempts: number,
): Promise<DeliverOutcome> {
  const log = deps.logger.child({ traceId: data.traceId, notificationId: data.notificationId });
  const notice = await readNotice(deps.db, data.notificationId);
  if (notice === undefined) return 'missing';
  if (notice.status === 'delivered' || notice.status === 'failed') return 'already-finished';
  const send = deps.senders[notice.channel];
  const startedAt = new Date();
  let verdict: DeliveryVerdict;
  let status: number | undefined;
  let latencyMs: number | undefined;
  if (send === undefined) {
    verdict = { kind: 'permanent', reason: `no sender for channel ${notice.channel}` };
  } else {
    try {
      const answer = await deps.breakers.run(notice.target, async () => {
        const a = await send(notice);
        const v = classifyAnswer(a);
        // The breaker counts an endpoint that answers 5xx or 429 as unwell, not one that says 401.
        if (v.kind === 'retry') {
          throw new DeliveryError(DeliveryErrorCode.EndpointBusy, v.reason, {
            status: a.status,
            ...(v.afterMs !== undefined ? { retryAfterMs: v.afterMs } : {}),
          });
        }
        return a;
      });
      status = answer.status;
      latencyMs = answer.latencyMs;
      verdict = classifyAnswer(answer);
    } catch (err) {
      verdict = classifyError(err);
      status = (err as { status?: number }).status;
    }
  }
  const last = attempt >= maxAttempts;
  const channel = notice.channel;
  if (verdict.kind === 'delivered') {
    await recordAttempt(deps.db, notice.id, {
      startedAt,
      latencyMs,
      statusCode: status,
      outcome: 'delivered',
      error: undefined,
    });
    if (channel === 'subscription') {
      // The subscriber just heard from us: its next heartbeat is a whole period away (backport IG).
      await touchSubscription(deps.db, notice.target.slice('Subscription/'.length)).catch((err: unknown) =>
        log.warn({ err: describeError(err), target: notice.target }, 'heartbeat clock not reset'),
      );
    }
    deps.metrics?.notices.inc({ channel, outcome: 'delivered' });
    // From the event's notice being written to the receiver's answer: what a PCP waits.
    deps.metrics?.noticeLatencySeconds.observe({ channel }, (Date.now() - notice.createdAt.getTime()) / 1000);
    log.info({ channel, target: notice.target, attempt, status }, 'notice delivered');
    return 'delivered';
  }
  if (verdict.kind === 'permanent' || last) {
    const reason =
      verdict.kind === 'permanent' ? verdict.reason : `gave up after ${attempt} attempts: ${verdict.reason}`;
    await recordAttempt(deps.db, notice.id, {
      startedAt,
      latencyMs,
      statusCode: status,
      outcome: 'failed',
      error: reason,
    });
    deps.metrics?.notices.inc({ channel, outcome: 'failed' });
    log.warn({ channel, target: notice.target, attempt, status, reason }, 'notice dead-lettered');
    throw new UnrecoverableError(reason);
  }
  const waitMs = verdict.afterMs ?? retryDelayMs(attempt, deps.retry);
  await recordAttempt(deps.db, notice.id, {
    startedAt,
    latencyMs,
    statusCode: status,
    outcome: 'retry',
    error: verdict.reason,
    nextAttemptAt: new Date(Date.now() + waitMs),
  });
  deps.metrics?.notices.inc({ channel, outcome: 'retry' });
  log.info({ channel, target: notice.target, attempt, status, waitMs }, 'notice not delivered, will retry');
  throw new RetryLater(verdict.reason, waitMs);
}

export interface DeliverWorkerOptions {
  readonly connection: ConnectionOptions;
  readonly prefix: string;
  readonly concurrency: number;
  readonly maxAttempts: number;
}

/** The BullMQ worker (and its queue handle) for the delivery stage. */
export function createDeliverWorker(deps: DeliverDeps, o: DeliverWorkerOptions): RegisteredWorker {
  const queue = createDeliverQueue(o.connection, o.prefix, o.maxAttempts);
  const worker = new Worker<DeliverJobData, DeliverOutcome>(
    DELIVER_QUEUE,
    (job: Job<DeliverJobData>) =>
      runDeliver(job.data, deps, job.attemptsMade + 1, job.opts.attempts ?? o.maxAttempts),
    {
      connection: o.connection,
      prefix: o.prefix,
      concurrency: o.concurrency,
      settings: {
        // The wait runDeliver chose (Retry-After, the breaker's, or backoff with jitter).
        backoffStrategy: (attemptsMade, type, err) => {
          if (type !== DELIVERY_BACKOFF) return 0;
          const asked = (err as { retryAfterMs?: number } | undefined)?.retryAfterMs;
          return asked ?? retryDelayMs(attemptsMade, deps.retry);
        },
      },
    },
  );
  return { name: DELIVER_QUEUE, queue, worker };
}
