/**
 * Composes the engine from its parts: database, queues, workers, MLLP listener and HTTP. Which
 * parts run is the role (`ENGINE_ROLE`): `all` in one process, or `ingest`, `worker` and `http`
 * apart, so a deployment keeps processing off the process that answers hospitals. Tests start a
 * real engine in-process with their own schema, queue prefix and ephemeral ports.
 */
import type { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Config, EngineRole } from './config/schema';
import { connectionState, watchConnection } from './observability/connection-state';
import { describeError } from './observability/describe-error';
import { createLogger, type Logger } from './observability/logger';
import { createMetrics, registerBacklogGauges, type EngineMetrics } from './observability/metrics';
import { createAckHandler } from './pipeline/ack-handler';
import { startMllpListener, type MllpListener } from './pipeline/mllp-listener';
import { createDeliverQueue, type DeliverJobData } from './queue/deliver-queue';
import { createNotifyQueue, type NotifyJobData } from './queue/notify-queue';
import { createProcessQueue, type ProcessJobData } from './queue/process-queue';
import { createReplayQueue, type ReplayJobData } from './queue/replay-queue';
import { createMaintenanceQueue } from './queue/maintenance-queue';
import { QueueRegistry } from './queue/queue-registry';
import { createRedis } from './queue/redis-connection';
import { openDb, type Db } from './store/db';
import { migrate } from './store/migrate';
import { autovacuumIsOff } from './store/planner-statistics';
import type { MessageHandlerRuntime } from './pipeline/map-and-store';
import type { WorkerPartOptions } from './engine-workers';
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

export interface EngineOptions extends WorkerPartOptions {
  readonly logger?: Logger;
  /** @defaultValue the parts of `config.role` */
  readonly parts?: EngineParts;
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
    if (db.kind === 'postgres' && (await autovacuumIsOff(db))) {
      logger.warn(
        { autovacuum: 'off' },
        "PostgreSQL's autovacuum is off: ANALYZE the engine's schema regularly, or its plans run without statistics",
      );
    }

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
      // Loaded only by a process that runs workers: mapping, identity and delivery stay out of
      // an ingest or HTTP process's memory.
      const { startWorkers } = await import('./engine-workers');
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
        budgets: { archiveMs: config.database.timeoutMs, queueMs: config.redis.timeoutMs },
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
      // Loaded only by a process that serves HTTP: express, the FHIR API and the console weigh
      // ~70 MB of memory that an ingest or worker process would carry for nothing.
      const { startHttp } = await import('./engine-http');
      httpPort = await startHttp({
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
        cleanups,
        ...(mappings !== undefined ? { reloadMappings: () => mappings.reload() } : {}),
      });
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
