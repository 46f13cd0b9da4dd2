/**
 * Composes the engine from its parts: database, queues, workers, MLLP listener and HTTP. Which
 * parts run is the role (`ENGINE_ROLE`): `all` in one process, or `ingest`, `worker` and `http`
 * apart, so a deployment keeps processing off the process that answers hospitals. Tests start a
 * real engine in-process with their own schema, queue prefix and ephemeral ports.
 */
import type { Server } from 'node:http';
import type { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Config, EngineRole } from './config/schema';
import { createHttpApp } from './http/create-app';
import { listenHttp } from './http/listen-http';
import { connectionState, watchConnection } from './observability/connection-state';
import { describeError } from './observability/describe-error';
import { createLogger, type Logger } from './observability/logger';
import { createMetrics, registerBacklogGauges, type EngineMetrics } from './observability/metrics';
import { createAckHandler } from './pipeline/ack-handler';
import { createDeliverWorker } from './pipeline/deliver';
import { createNotifyWorker } from './pipeline/notify';
import { relayLeftoverNotices, relayNotices, startNoticeSweep } from './pipeline/relay-notices';
import { EndpointBreakers } from './notify/endpoint-breakers';
import { createNoticeSenders } from './notify/notice-senders';
import { closeHttpAgents } from './notify/safe-http-client';
import { rosterAttributions } from './notify/roster-match';
import { syncGroupRoster } from './notify/roster-group';
import { createRegistrationRules } from './notify/registration-rules';
import { activateSubscription, sendDueHeartbeats } from './notify/subscription-lifecycle';
import { startPeriodicSweep } from './pipeline/periodic-sweep';
import { startMllpListener, type MllpListener } from './pipeline/mllp-listener';
import type { MessageHandler } from './pipeline/process-message';
import { createProcessWorker, type ProcessWorkerOptions } from './pipeline/process-worker';
import { requeueUnfinished, startRecoverySweep } from './pipeline/recovery';
import { relayLeftovers, relayOutbox, startOutboxSweep } from './pipeline/relay-outbox';
import { createDeliverQueue, type DeliverJobData } from './queue/deliver-queue';
import { createNotifyQueue, type NotifyJobData } from './queue/notify-queue';
import { createProcessQueue, type ProcessJobData } from './queue/process-queue';
import { createReplayQueue, type ReplayJobData } from './queue/replay-queue';
import { createMaintenanceQueue } from './queue/maintenance-queue';
import { createReplayWorker } from './pipeline/bulk-replay';
import { createRetentionWorker, scheduleRetention } from './pipeline/retention';
import { QueueRegistry } from './queue/queue-registry';
import { createRedis } from './queue/redis-connection';
import { openDb, type Db } from './store/db';
import { migrate } from './store/migrate';
import { createMessageHandler, type MessageHandlerRuntime } from './pipeline/map-and-store';
import { identityRules } from './identity/link-patient';
import { startLinkSweep } from './identity/link-sweep';
import { personOrderKeys } from './identity/person-order-keys';
import { createAuthRuntime, type AuthRuntime } from './auth/auth-runtime';

/** Scheduling priority of processing when it runs apart from ingest (higher runs later). */
export const WORKER_NICENESS = 19;

/** The parts a process runs. */
export interface EngineParts {
  readonly ingest: boolean;
  readonly worker: boolean;
  readonly http: boolean;
}

/** The parts a role stands for. */
export function partsOf(role: EngineRole): EngineParts {
  switch (role) {
    case 'all':
      return { ingest: true, worker: true, http: true };
    case 'ingest':
      return { ingest: true, worker: false, http: false };
    case 'worker':
      return { ingest: false, worker: true, http: false };
    case 'http':
      return { ingest: false, worker: false, http: true };
  }
}

export interface EngineOptions {
  readonly config: Config;
  readonly logger?: Logger;
  /** @defaultValue the parts of `config.role` */
  readonly parts?: EngineParts;
  readonly workerOptions?: Pick<ProcessWorkerOptions, 'lockDurationMs' | 'stalledIntervalMs'>;
  /** How often unfinished messages are swept back into the queue. @defaultValue 30 s */
  readonly sweepIntervalMs?: number;
  /** Messages younger than this are left to their own job by the sweep. @defaultValue 30 s */
  readonly sweepOlderThanMs?: number;
  /** Replaces the mapping handler; used by the benchmark's floor server only. */
  readonly handler?: MessageHandler;
}

export interface RunningEngine {
  readonly config: Config;
  readonly db: Db;
  readonly queue: Queue<ProcessJobData>;
  readonly notifyQueue: Queue<NotifyJobData>;
  readonly deliverQueue: Queue<DeliverJobData>;
  /** Bulk replays (pipeline/bulk-replay.ts). */
  readonly replayQueue: Queue<ReplayJobData>;
  /** Every queue of the engine: process, notify, deliver, replay, maintenance. */
  readonly queues: readonly Queue[];
  readonly metrics: EngineMetrics;
  readonly auth: AuthRuntime;
  /** 0 when this process runs no MLLP listener (or no HTTP). */
  readonly mllpPort: number;
  readonly httpPort: number;
  /**
   * Graceful: stop accepting (HTTP, then MLLP, whose in-flight ACKs finish), then let the
   * workers finish their jobs, then close queues, Redis and the database.
   */
  stop(): Promise<void>;
}

/** Starts every part; throws (after cleaning up) if any cannot start. */
export async function startEngine(options: EngineOptions): Promise<RunningEngine> {
  const { config } = options;
  const parts = options.parts ?? partsOf(config.role);
  const logger = options.logger ?? createLogger(config.logLevel);
  const metrics = createMetrics(true, { allowedSenders: config.mllp.allowedSenders });
  // Undo steps, run last-first: HTTP, MLLP, sweeps, workers and queues, Redis, then the database.
  const cleanups: (() => Promise<void> | void)[] = [];
  const stopAll = async (): Promise<void> => {
    for (const fn of cleanups.reverse()) {
      await Promise.resolve()
        .then(fn)
        .catch((err: unknown) => logger.warn({ err: describeError(err) }, 'shutdown step failed'));
    }
    cleanups.length = 0;
  };
  try {
    const pgState = connectionState(logger, 'postgres');
    const db = await openDb({
      ...config.database,
      // A process that only processes yields to the ingest path on a shared host, its PostgreSQL
      // sessions included (see worker-process.ts).
      ...(parts.worker && !parts.ingest ? { backendNiceness: WORKER_NICENESS } : {}),
      onConnectionError: (err) => pgState.down(err),
      onConnectionRestored: () => pgState.up(),
    });
    cleanups.push(() => db.close());
    await migrate(db);

    const producer: Redis = createRedis(config.redis.url, {
      role: 'producer',
      timeoutMs: config.redis.timeoutMs,
    });
    watchConnection(producer, logger, 'redis (producer)', 'ready');
    cleanups.push(() => producer.disconnect());
    // Workers block on Redis and must never give up a command: a connection of their own, closed
    // after the workers (cleanups run last-first).
    const workerRedis = parts.worker
      ? createRedis(config.redis.url, { role: 'worker', timeoutMs: config.redis.timeoutMs })
      : undefined;
    if (workerRedis !== undefined) {
      watchConnection(workerRedis, logger, 'redis (workers)', 'ready');
      cleanups.push(() => workerRedis.disconnect());
    }
    const registry = new QueueRegistry();
    cleanups.push(() => registry.closeAll());
    const queue = createProcessQueue(producer, config.redis.prefix);
    const notifyQueue = createNotifyQueue(producer, config.redis.prefix);
    const deliverQueue = createDeliverQueue(producer, config.redis.prefix, config.notify.maxAttempts);
    const replayQueue = createReplayQueue(producer, config.redis.prefix);
    const maintenanceQueue = createMaintenanceQueue(producer, config.redis.prefix);
    const queues: readonly Queue[] = [queue, notifyQueue, deliverQueue, replayQueue, maintenanceQueue];
    for (const q of queues) {
      watchConnection(q, logger, `queue ${q.name}`);
      registry.addQueue(q);
    }
    registerBacklogGauges(metrics, { db, queues });

    // This process's message handler, when it runs workers: a deploy over the mapping API
    // switches it at once. A process without workers (ENGINE_ROLE=http) writes the file and the
    // worker processes' watchers reload it.
    let mappings: MessageHandlerRuntime | undefined;
    if (workerRedis !== undefined) {
      mappings = await startWorkers(options, {
        db,
        workerRedis,
        queue,
        notifyQueue,
        deliverQueue,
        maintenanceQueue,
        registry,
        logger,
        metrics,
        cleanups,
      });
    }

    const auth = await createAuthRuntime(config, db);
    let mllpPort = 0;
    if (parts.ingest) {
      if (config.mllp.allowedSenders === undefined) {
        logger.warn('MLLP_ALLOWED_SENDERS is unset: messages from any sender are accepted');
      }
      const ackHandler = createAckHandler({
        db,
        queue,
        allowedSenders: config.mllp.allowedSenders,
        maxFrameBytes: config.mllp.maxFrameBytes,
        limits: { maxSegments: config.mllp.maxSegments, maxRepetitions: config.mllp.maxRepetitions },
        metrics,
        logger,
        storeState: connectionState(logger, 'message archive (ingest answers AE)'),
        queueState: connectionState(logger, 'process queue (ingest answers AE)'),
      });
      const mllp: MllpListener = await startMllpListener({
        ...config.mllp,
        handle: ackHandler,
        logger,
        metrics,
      });
      cleanups.push(() => mllp.close());
      mllpPort = mllp.port;
    }

    let httpPort = 0;
    if (parts.http) {
      const lifecycle = {
        db,
        baseUrl: config.http.publicUrl,
        policy: config.notify.endpointPolicy,
        timeoutMs: config.notify.timeoutMs,
        logger,
      };
      const registration = createRegistrationRules({
        policy: lifecycle.policy,
        syncGroup: async (tx, id, group) => {
          await syncGroupRoster(tx, id, group, identityRules(config.identity));
        },
        // The handshake runs after the answer to the POST: the subscriber sees `requested`, then
        // `active` (or `error`, with the reason) on its next read or $status.
        activate: (id) => void activateSubscription(lifecycle, id),
        logger,
      });
      const app = createHttpApp({
        config,
        db,
        queue,
        deliverQueue,
        replayQueue,
        queues,
        producer,
        metrics,
        auth,
        logger,
        registration,
        ...(mappings !== undefined ? { reloadMappings: () => mappings.reload() } : {}),
      });
      const server: Server = await listenHttp(app, config.http);
      cleanups.push(
        () =>
          new Promise<void>((resolve) => {
            server.close(() => resolve());
            server.closeIdleConnections();
            // In-flight requests get a moment to finish; then what is left is cut.
            setTimeout(() => server.closeAllConnections(), 2_000).unref();
          }),
      );
      const address = server.address();
      httpPort = typeof address === 'object' && address !== null ? address.port : config.http.port;
    }
    logger.info({ mllpPort, httpPort, store: db.kind, role: config.role, parts }, 'engine started');
    return {
      config,
      db,
      queue,
      notifyQueue,
      deliverQueue,
      replayQueue,
      queues,
      metrics,
      auth,
      mllpPort,
      httpPort,
      stop: stopAll,
    };
  } catch (err) {
    await stopAll();
    throw err;
  }
}

interface WorkerContext {
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
async function startWorkers(
  options: EngineOptions,
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
