/**
 * Composes the engine from its parts: database, queue, workers, MLLP listener and HTTP. Tests
 * start a real engine in-process with their own schema, queue prefix and ephemeral ports.
 */
import type { Server } from 'node:http';
import type { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Config } from './config/schema';
import { createHttpApp } from './http/create-app';
import { listenHttp } from './http/listen-http';
import { createLogger, type Logger } from './observability/logger';
import { createMetrics, type EngineMetrics } from './observability/metrics';
import { createAckHandler } from './pipeline/ack-handler';
import { IngestPressure, type IngestPressureOptions } from './pipeline/ingest-pressure';
import { startMllpListener, type MllpListener } from './pipeline/mllp-listener';
import {
  createProcessWorker,
  type MessageHandler,
  type ProcessWorkerOptions,
} from './pipeline/process-message';
import { requeueUnfinished, startRecoverySweep } from './pipeline/recovery';
import { createProcessQueue, type ProcessJobData } from './queue/process-queue';
import { QueueRegistry } from './queue/queue-registry';
import { createRedis } from './queue/redis-connection';
import { openDb, type Db } from './store/db';
import { migrate } from './store/migrate';
import { createMessageHandler, type MessageHandlerRuntime } from './pipeline/map-and-store';
import { createAuthRuntime, type AuthRuntime } from './auth/auth-runtime';

export interface EngineOptions {
  readonly config: Config;
  readonly logger?: Logger;
  /** false: ingest only (a second process runs the workers). @defaultValue true */
  readonly workers?: boolean;
  readonly workerOptions?: Pick<
    ProcessWorkerOptions,
    'lockDurationMs' | 'stalledIntervalMs' | 'orderingDelayMs'
  >;
  /** Processing yields to a busy ingest (see ingest-pressure.ts); false turns that off. */
  readonly ingestFirst?: IngestPressureOptions | false;
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
  readonly metrics: EngineMetrics;
  readonly auth: AuthRuntime;
  readonly mllpPort: number;
  readonly httpPort: number;
  /** Graceful: HTTP, then MLLP (in-flight ACKs finish), then workers and queues, then Redis and the database. */
  stop(): Promise<void>;
}

/** Starts every part; throws (after cleaning up) if any cannot start. */
export async function startEngine(options: EngineOptions): Promise<RunningEngine> {
  const { config } = options;
  const logger = options.logger ?? createLogger(config.logLevel);
  const metrics = createMetrics();
  // Undo steps, run last-first: HTTP, MLLP, sweep, workers and queues, Redis, then the database.
  const cleanups: (() => Promise<void> | void)[] = [];
  const stopAll = async (): Promise<void> => {
    for (const fn of cleanups.reverse()) {
      await Promise.resolve()
        .then(fn)
        .catch(() => undefined);
    }
  };
  try {
    const db = await openDb(config.database);
    cleanups.push(() => db.close());
    await migrate(db);

    const producer: Redis = createRedis(config.redis.url, { role: 'producer' });
    producer.on('error', () => undefined);
    cleanups.push(() => producer.disconnect());
    const workerRedis =
      options.workers === false ? undefined : createRedis(config.redis.url, { role: 'worker' });
    workerRedis?.on('error', () => undefined);
    cleanups.push(() => workerRedis?.disconnect());
    const registry = new QueueRegistry();
    cleanups.push(() => registry.closeAll());
    const queue = createProcessQueue(producer, config.redis.prefix);
    queue.on('error', () => undefined);
    registry.addQueue(queue);

    const pressure = options.ingestFirst === false ? undefined : new IngestPressure(options.ingestFirst);
    let runtime: MessageHandlerRuntime | undefined;
    if (workerRedis !== undefined) {
      runtime = options.handler === undefined ? await createMessageHandler(config, logger) : undefined;
      if (runtime !== undefined) cleanups.push(() => runtime?.close());
      const handle = options.handler ?? runtime?.handle;
      if (handle === undefined) throw new Error('no message handler');
      registry.add(
        createProcessWorker(
          { db, handle, logger, metrics },
          {
            connection: workerRedis,
            prefix: config.redis.prefix,
            concurrency: config.workerConcurrency,
            ...(pressure !== undefined
              ? { beforeJob: () => pressure.yieldToIngest(), afterJob: () => pressure.noteProcessed() }
              : {}),
            ...options.workerOptions,
          },
        ),
      );
      const requeued = await requeueUnfinished(db, queue, { olderThanMs: 0 });
      if (requeued > 0) logger.info({ requeued }, 'queued unfinished messages from the archive');
      const stopSweep = startRecoverySweep(
        db,
        queue,
        logger,
        options.sweepIntervalMs ?? 30_000,
        options.sweepOlderThanMs ?? 30_000,
      );
      cleanups.push(stopSweep);
    }

    const auth = await createAuthRuntime(config, db);
    if (config.mllp.allowedSenders === undefined) {
      logger.warn('MLLP_ALLOWED_SENDERS is unset: messages from any sender are accepted');
    }
    const ackHandler = createAckHandler({
      db,
      queue,
      allowedSenders: config.mllp.allowedSenders,
      maxFrameBytes: config.mllp.maxFrameBytes,
      logger,
    });
    const mllp: MllpListener = await startMllpListener({
      ...config.mllp,
      handle: async (event, conn) => {
        const result = await ackHandler(event, conn);
        pressure?.noteIngest();
        return result;
      },
      logger,
      metrics,
    });
    cleanups.push(() => mllp.close());

    const app = createHttpApp({ config, db, queue, producer, metrics, auth, logger });
    const server: Server = await listenHttp(app, config.http);
    cleanups.push(
      () =>
        new Promise<void>((resolve) => {
          server.close(() => resolve());
          server.closeAllConnections();
        }),
    );
    const address = server.address();
    const httpPort = typeof address === 'object' && address !== null ? address.port : config.http.port;
    logger.info({ mllpPort: mllp.port, httpPort, store: db.kind }, 'engine started');
    return { config, db, queue, metrics, auth, mllpPort: mllp.port, httpPort, stop: stopAll };
  } catch (err) {
    await stopAll();
    throw err;
  }
}
