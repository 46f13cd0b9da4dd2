/**
 * Starts what a benchmark phase sends to (the engine, or the floor server) with a schema and
 * queue prefix of its own, and removes both afterwards so a benchmark leaves nothing behind.
 */
import { once } from 'node:events';
import { randomBytes } from 'node:crypto';
import net from 'node:net';
import { Queue } from 'bullmq';
import { loadConfig } from '../../config/schema';
import { startEngine, type RunningEngine } from '../../engine';
import { createLogger } from '../../observability/logger';
import { DELIVER_QUEUE } from '../../queue/deliver-queue';
import { MAINTENANCE_QUEUE } from '../../queue/maintenance-queue';
import { NOTIFY_QUEUE } from '../../queue/notify-queue';
import { PROCESS_QUEUE, type ProcessJobData } from '../../queue/process-queue';
import { REPLAY_QUEUE } from '../../queue/replay-queue';
import { createRedis } from '../../queue/redis-connection';
import { openDb } from '../../store/db';
import { startEngineProcess } from '../engine-process';
import { startWorkerProcess, type WorkerProcess } from '../worker-process';
import { startFloorServer } from './floor-server';
import { unfinishedJobs } from './stage-backlog-sampler';

export interface BenchEnv {
  readonly databaseUrl: string;
  readonly redisUrl: string;
  readonly mappingsDir: string;
}

export interface BenchTarget {
  readonly kind: 'engine' | 'floor';
  readonly port: number;
  /** The engine's in-process (ingest) side, for parts that read its database, queues or HTTP. */
  readonly engine?: RunningEngine;
  /** The engine's process when it runs in a child of its own (`ingestProcess`). */
  readonly pid?: number;
  /** The worker child (processing, notify, delivery), when the engine runs one. */
  readonly workerPid?: number;
  /** Jobs not yet finished (waiting, delayed, prioritized, active). */
  pendingJobs(): Promise<number>;
  /** Stops the server, obliterates its queue and drops its schema. */
  close(): Promise<void>;
}

/** Engine only: what runs besides the MLLP listener. */
export interface BenchTargetOptions {
  /** False leaves every job in the queue (the backlog run). @defaultValue true */
  readonly workers?: boolean;
  /** Serve HTTP (FHIR API, auth) on a loopback port, its PUBLIC_URL known before start. */
  readonly http?: boolean;
  /** More engine settings, for this process and the worker child alike. */
  readonly settings?: Readonly<Record<string, string>>;
  /**
   * Run ingest in a child process of its own (`ENGINE_ROLE=ingest`, as a split deployment runs
   * it) instead of in this one, so its memory is measured without the benchmark's. No workers
   * and no HTTP. @defaultValue false
   */
  readonly ingestProcess?: boolean;
  /** Schema and queue prefix. @defaultValue `bench_` and random hex */
  readonly name?: string;
}

/**
 * Starts a target on an ephemeral loopback port.
 * @param kind - the engine (startEngine) or the floor server.
 * @param env - PostgreSQL, Redis and mappings to use.
 * @param options - engine only: workers, HTTP and extra settings.
 */
export async function startBenchTarget(
  kind: BenchTarget['kind'],
  env: BenchEnv,
  options: BenchTargetOptions = {},
): Promise<BenchTarget> {
  const name = options.name ?? `bench_${randomBytes(5).toString('hex')}`;
  try {
    return await startTarget(kind, env, options, name);
  } catch (err) {
    // A benchmark that cannot start leaves nothing behind either.
    await removeBenchState(env, name).catch(() => undefined);
    throw err;
  }
}

async function startTarget(
  kind: BenchTarget['kind'],
  env: BenchEnv,
  options: BenchTargetOptions,
  name: string,
): Promise<BenchTarget> {
  let stopServer: () => Promise<void>;
  let port: number;
  let queue: Queue<ProcessJobData>;
  let engine: RunningEngine | undefined;
  let workerPid: number | undefined;
  if (kind === 'engine') {
    // A system token's audience is PUBLIC_URL, so the HTTP port must be known before the start.
    const httpPort = options.http === true ? await freeLoopbackPort() : 0;
    const settings = {
      ...{ MLLP_PORT: '0', MLLP_HOST: '127.0.0.1', HTTP_PORT: String(httpPort), LOG_LEVEL: 'silent' },
      ...(options.http === true
        ? { HTTP_HOST: '127.0.0.1', PUBLIC_URL: `http://127.0.0.1:${httpPort}` }
        : {}),
      ...{
        REDIS_URL: env.redisUrl,
        QUEUE_PREFIX: name,
        DATABASE_URL: env.databaseUrl,
        DATABASE_SCHEMA: name,
      },
      MAPPINGS_DIR: env.mappingsDir,
      ...options.settings,
    };
    if (options.ingestProcess === true) {
      const child = await startIngestProcess({ ...process.env, ...settings }, name, env);
      return {
        kind,
        ...child,
        close: async () => {
          await child.stop();
          await removeBenchState(env, name);
        },
      };
    }
    const config = loadConfig(settings);
    // As `npm start` runs it on PostgreSQL: ingest here, processing in a lower-priority child.
    const running = await startEngine({
      config,
      logger: createLogger('silent'),
      parts: { ingest: true, worker: false, http: options.http === true },
    });
    engine = running;
    let workerProcess: WorkerProcess | undefined;
    try {
      workerProcess =
        options.workers !== false
          ? await startWorkerProcess({ env: { ...process.env, ...settings } })
          : undefined;
    } catch (err) {
      await running.stop().catch(() => undefined);
      throw err;
    }
    workerPid = workerProcess?.pid;
    ({ queue } = running);
    port = running.mllpPort;
    stopServer = async () => {
      await running.stop();
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
    ...(engine !== undefined ? { engine } : {}),
    ...(workerPid !== undefined ? { workerPid } : {}),
    pendingJobs: () => unfinishedJobs(queue),
    async close() {
      await stopServer();
      await removeBenchState(env, name);
    },
  };
}

/** The ingest role in a child process; its MLLP port read from its ready lines. */
async function startIngestProcess(
  settings: Record<string, string | undefined>,
  prefix: string,
  env: BenchEnv,
): Promise<Omit<BenchTarget, 'kind' | 'close'> & { stop(): Promise<void> }> {
  const child = await startEngineProcess({ env: settings, role: 'ingest' });
  const port = Number(/MLLP on [^\s]*:(\d+)/.exec(child.readyText)?.[1]);
  const redis = createRedis(env.redisUrl, { role: 'producer' });
  const queue = new Queue<ProcessJobData>(PROCESS_QUEUE, { connection: redis, prefix });
  if (!Number.isInteger(port) || port <= 0) {
    await child.stop();
    throw new Error(`the ingest process printed no MLLP port:\n${child.readyText}`);
  }
  return {
    port,
    pid: child.pid,
    pendingJobs: () => unfinishedJobs(queue),
    async stop() {
      await child.stop();
      await queue.close();
      redis.disconnect();
    },
  };
}

/** A port free on loopback right now. */
async function freeLoopbackPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise((resolve) => server.close(resolve));
  if (typeof address !== 'object' || address === null) throw new Error('no loopback port');
  return address.port;
}

/**
 * Obliterates the queues and drops the schema through fresh connections (the server's are
 * closed). Every queue the engine opens: events, notices, replays and the retention schedule of a
 * run are kept under its prefix too.
 */
async function removeBenchState(env: BenchEnv, name: string): Promise<void> {
  const redis = createRedis(env.redisUrl, { role: 'producer' });
  redis.on('error', () => undefined);
  try {
    if (redis.status !== 'ready') await once(redis, 'ready');
    for (const queueName of [PROCESS_QUEUE, NOTIFY_QUEUE, DELIVER_QUEUE, REPLAY_QUEUE, MAINTENANCE_QUEUE]) {
      const queue = new Queue(queueName, { connection: redis, prefix: name });
      await queue.obliterate({ force: true });
      await queue.close();
    }
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
