/**
 * Starts what a benchmark phase sends to (the engine, or the floor server) with a schema and
 * queue prefix of its own, and removes both afterwards so a benchmark leaves nothing behind.
 */
import { once } from 'node:events';
import { randomBytes } from 'node:crypto';
import type { Queue } from 'bullmq';
import { loadConfig } from '../../config/schema';
import { startEngine } from '../../engine';
import { createLogger } from '../../observability/logger';
import { createProcessQueue, type ProcessJobData } from '../../queue/process-queue';
import { createRedis } from '../../queue/redis-connection';
import { openDb } from '../../store/db';
import { startWorkerProcess } from '../worker-process';
import { startFloorServer } from './floor-server';

export interface BenchEnv {
  readonly databaseUrl: string;
  readonly redisUrl: string;
  readonly mappingsDir: string;
}

export interface BenchTarget {
  readonly kind: 'engine' | 'floor';
  readonly port: number;
  /** Jobs not yet finished (waiting, delayed, prioritized, active). */
  pendingJobs(): Promise<number>;
  /** Stops the server, obliterates its queue and drops its schema. */
  close(): Promise<void>;
}

/**
 * Starts a target on an ephemeral loopback port.
 * @param kind - the engine (startEngine) or the floor server.
 * @param env - PostgreSQL, Redis and mappings to use.
 * @param workers - engine only: false leaves every job in the queue (the backlog run).
 */
export async function startBenchTarget(
  kind: BenchTarget['kind'],
  env: BenchEnv,
  workers = true,
): Promise<BenchTarget> {
  const name = `bench_${randomBytes(5).toString('hex')}`;
  let stopServer: () => Promise<void>;
  let port: number;
  let queue: Queue<ProcessJobData>;
  if (kind === 'engine') {
    const settings = {
      ...{ MLLP_PORT: '0', MLLP_HOST: '127.0.0.1', HTTP_PORT: '0', LOG_LEVEL: 'silent' },
      ...{
        REDIS_URL: env.redisUrl,
        QUEUE_PREFIX: name,
        DATABASE_URL: env.databaseUrl,
        DATABASE_SCHEMA: name,
      },
      MAPPINGS_DIR: env.mappingsDir,
    };
    const config = loadConfig(settings);
    // As `npm start` runs it on PostgreSQL: ingest here, processing in a lower-priority child.
    const engine = await startEngine({
      config,
      logger: createLogger('silent'),
      parts: { ingest: true, worker: false, http: false },
    });
    const workerProcess = workers
      ? await startWorkerProcess({ env: { ...process.env, ...settings } })
      : undefined;
    ({ queue } = engine);
    port = engine.mllpPort;
    stopServer = async () => {
      await engine.stop();
      await workerProcess?.stop();
    };
  } else {
    const floor = await startFloorServer({
      databaseUrl: env.databaseUrl,
      schema: name,
      redisUrl: env.redisUrl,
      queuePrefix: name,
    });
    ({ queue, port } = floor);
    stopServer = () => floor.stop();
  }
  return {
    kind,
    port,
    async pendingJobs() {
      const counts = await queue.getJobCounts('waiting', 'delayed', 'prioritized', 'active');
      return Object.values(counts).reduce((a, b) => a + b, 0);
    },
    async close() {
      await stopServer();
      await removeBenchState(env, name);
    },
  };
}

/** Obliterates the queue and drops the schema through fresh connections (the server's are closed). */
async function removeBenchState(env: BenchEnv, name: string): Promise<void> {
  const redis = createRedis(env.redisUrl, { role: 'producer' });
  redis.on('error', () => undefined);
  try {
    if (redis.status !== 'ready') await once(redis, 'ready');
    const queue = createProcessQueue(redis, name);
    await queue.obliterate({ force: true });
    await queue.close();
  } finally {
    redis.disconnect();
  }
  const db = await openDb({ url: env.databaseUrl, schema: name, dataDir: 'memory://', poolSize: 1 });
  try {
    await db.exec(`DROP SCHEMA IF EXISTS "${name}" CASCADE`);
  } finally {
    await db.close();
  }
}

/**
 * Waits until the target's queue is empty or `maxMs` passes.
 * @returns true when it drained.
 */
export async function waitForDrain(target: BenchTarget, maxMs: number): Promise<boolean> {
  const deadline = Date.now() + maxMs;
  while (Date.now() < deadline) {
    if ((await target.pendingJobs()) === 0) return true;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  return false;
}
