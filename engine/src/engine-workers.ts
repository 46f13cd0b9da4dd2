/**
 * The worker part of the engine: processing, notify, delivery, replay and retention workers, and
 * the sweeps that repair what a crash left. `startEngine` imports this file only in a process
 * that runs workers.
 */
import type { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Config } from './config/schema';
import { identityRules } from './identity/link-patient';
import { startLinkSweep } from './identity/link-sweep';
import { personOrderKeys } from './identity/person-order-keys';
import { EndpointBreakers } from './notify/endpoint-breakers';
import { createNoticeSenders } from './notify/notice-senders';
import { rosterAttributions } from './notify/roster-match';
import { closeHttpAgents } from './notify/safe-http-client';
import { sendDueHeartbeats } from './notify/subscription-lifecycle';
import { watchConnection } from './observability/connection-state';
import type { Logger } from './observability/logger';
import type { EngineMetrics } from './observability/metrics';
import { createReplayWorker } from './pipeline/bulk-replay';
import { createDeliverWorker } from './pipeline/deliver';
import { createMessageHandler, type MessageHandlerRuntime } from './pipeline/map-and-store';
import { createNotifyWorker } from './pipeline/notify';
import { startPeriodicSweep } from './pipeline/periodic-sweep';
import type { MessageHandler } from './pipeline/process-message';
import { createProcessWorker, type ProcessWorkerOptions } from './pipeline/process-worker';
import { requeueUnfinished, startRecoverySweep } from './pipeline/recovery';
import { relayLeftoverNotices, relayNotices, startNoticeSweep } from './pipeline/relay-notices';
import { relayLeftovers, relayOutbox, startOutboxSweep } from './pipeline/relay-outbox';
import { createRetentionWorker, scheduleRetention } from './pipeline/retention';
import type { DeliverJobData } from './queue/deliver-queue';
import type { NotifyJobData } from './queue/notify-queue';
import type { ProcessJobData } from './queue/process-queue';
import type { QueueRegistry } from './queue/queue-registry';
import type { Db } from './store/db';

/** What the workers take from the engine's options. */
export interface WorkerPartOptions {
  readonly config: Config;
  readonly workerOptions?: Pick<ProcessWorkerOptions, 'lockDurationMs' | 'stalledIntervalMs'>;
  /** How often unfinished messages are swept back into the queue. @defaultValue 30 s */
  readonly sweepIntervalMs?: number;
  /** Messages younger than this are left to their own job by the sweep. @defaultValue 30 s */
  readonly sweepOlderThanMs?: number;
  /** Replaces the mapping handler; used by the benchmark's floor server only. */
  readonly handler?: MessageHandler;
}

export interface WorkerContext {
  readonly db: Db;
  readonly workerRedis: Redis;
  readonly queue: Queue<ProcessJobData>;
  readonly notifyQueue: Queue<NotifyJobData>;
  readonly deliverQueue: Queue<DeliverJobData>;
  /** Where the retention purge's job scheduler is registered. */
  readonly maintenanceQueue: Queue;
  readonly registry: QueueRegistry;
  readonly logger: Logger;
  readonly metrics: EngineMetrics;
  readonly cleanups: (() => Promise<void> | void)[];
}

/**
 * Processing, notify and delivery workers, and the sweeps that repair what a crash left.
 * @returns the mapping handler's runtime (undefined with a replaced handler).
 */
export async function startWorkers(
  options: WorkerPartOptions,
  w: WorkerContext,
): Promise<MessageHandlerRuntime | undefined> {
  const { config } = options;
  const { db, workerRedis, queue, notifyQueue, deliverQueue, registry, logger, metrics, cleanups } = w;
  // Built once: every event's roster lookup and the link sweep use the same rules.
  const rules = identityRules(config.identity);
  let runtime: MessageHandlerRuntime | undefined;
  if (options.handler === undefined) {
    runtime = await createMessageHandler(config, logger);
    cleanups.push(() => runtime?.close());
  }
  const handle = options.handler ?? runtime?.handle;
  if (handle === undefined) throw new Error('no message handler');
  const common = { connection: workerRedis, prefix: config.redis.prefix };
  const processWorker = createProcessWorker(
    {
      db,
      handle,
      logger,
      metrics,
      orderKeys: personOrderKeys,
      after: { queue, relay: (refs, traceId) => relayOutbox(db, notifyQueue, refs, traceId) },
    },
    { ...common, concurrency: config.workerConcurrency, ...options.workerOptions },
  );
  const notifyWorker = createNotifyWorker(
    {
      db,
      rosters: (tx, patientId) => rosterAttributions(tx, patientId, rules),
      relay: (refs, traceId) => relayNotices(db, deliverQueue, refs, traceId),
      logger,
    },
    { ...common, concurrency: config.workerConcurrency },
  );
  const n = config.notify;
  const deliverWorker = createDeliverWorker(
    {
      db,
      senders: createNoticeSenders({
        db,
        baseUrl: config.http.publicUrl,
        policy: n.endpointPolicy,
        timeoutMs: n.timeoutMs,
      }),
      breakers: new EndpointBreakers({
        consecutiveFailures: n.breakerFailures,
        halfOpenAfterMs: n.breakerHalfOpenMs,
      }),
      retry: { baseMs: n.retryBaseMs, maxMs: n.retryMaxMs },
      logger,
      metrics,
    },
    // Deliveries wait on receivers, not on this machine: more of them in flight than processing.
    { ...common, concurrency: Math.max(8, config.workerConcurrency * 4), maxAttempts: n.maxAttempts },
  );
  cleanups.push(() => closeHttpAgents());
  const replayWorker = createReplayWorker({ db, queue, logger }, common);
  const retentionWorker = createRetentionWorker({ db, logger }, { ...common, settings: config.retention });
  for (const entry of [processWorker, notifyWorker, deliverWorker, replayWorker, retentionWorker]) {
    watchConnection(entry.worker, logger, `${entry.name} worker`);
    // The worker's own queue handle (hand-overs, relays) shares its connection.
    watchConnection(entry.queue, logger, `${entry.name} queue (workers)`);
    registry.add(entry);
  }
  const requeued = await requeueUnfinished(db, queue, { olderThanMs: 0 });
  if (requeued > 0) logger.info({ requeued }, 'queued unfinished messages from the archive');
  const relayed = await relayLeftovers(db, notifyQueue, 0);
  if (relayed > 0) logger.info({ relayed }, 'relayed events left in the outbox');
  const queuedNotices = await relayLeftoverNotices(db, deliverQueue, 0);
  if (queuedNotices > 0) logger.info({ queuedNotices }, 'queued notices left undelivered');
  const sweepMs = options.sweepIntervalMs ?? 30_000;
  cleanups.push(startRecoverySweep(db, queue, logger, sweepMs, options.sweepOlderThanMs ?? 30_000));
  cleanups.push(startOutboxSweep(db, notifyQueue, logger, sweepMs));
  cleanups.push(startNoticeSweep(db, deliverQueue, logger, sweepMs));
  cleanups.push(
    startPeriodicSweep({
      name: 'subscription heartbeats',
      intervalMs: Math.min(sweepMs, 5_000),
      logger,
      run: () =>
        sendDueHeartbeats({
          db,
          baseUrl: config.http.publicUrl,
          policy: config.notify.endpointPolicy,
          timeoutMs: config.notify.timeoutMs,
          logger,
        }),
      report: (sent) => logger.debug({ sent }, 'subscription heartbeats sent'),
    }),
  );
  cleanups.push(startLinkSweep(db, rules, logger, sweepMs));
  await scheduleRetention(w.maintenanceQueue, config.retention);
  return runtime;
}
