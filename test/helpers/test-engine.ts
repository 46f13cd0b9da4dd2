/**
 * A real engine in-process for integration tests: its own PostgreSQL schema, its own queue
 * prefix, ephemeral ports. `stop()` removes every trace from Redis and the database.
 */
import net from 'node:net';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { loadConfig } from '../../engine/src/config/schema';
import { startEngine, type EngineOptions, type RunningEngine } from '../../engine/src/engine';
import { openDb } from '../../engine/src/store/db';
import { DELIVER_QUEUE } from '../../engine/src/queue/deliver-queue';
import { NOTIFY_QUEUE } from '../../engine/src/queue/notify-queue';
import { PROCESS_QUEUE } from '../../engine/src/queue/process-queue';
import { REPLAY_QUEUE } from '../../engine/src/queue/replay-queue';
import { MAINTENANCE_QUEUE } from '../../engine/src/queue/maintenance-queue';
import { TEST_DATABASE_URL, TEST_REDIS_URL, uniqueName } from './test-db';

export interface TestEngine extends RunningEngine {
  readonly schema: string;
  readonly prefix: string;
  /** Stops the engine and deletes its schema and queue keys. */
  destroy(): Promise<void>;
}

export interface TestEngineOptions extends Omit<EngineOptions, 'config'> {
  readonly env?: Record<string, string>;
  /** Reuse an earlier engine's schema and prefix (restart scenarios). */
  readonly reuse?: { readonly schema: string; readonly prefix: string };
}

export async function startTestEngine(o: TestEngineOptions = {}): Promise<TestEngine> {
  const schema = o.reuse?.schema ?? uniqueName('eng');
  const prefix = o.reuse?.prefix ?? uniqueName('q');
  // The token audience is PUBLIC_URL, so the HTTP port must be known before the engine starts.
  const httpPort = await freePort();
  const config = loadConfig({
    MLLP_PORT: '0',
    MLLP_HOST: '127.0.0.1',
    HTTP_PORT: String(httpPort),
    HTTP_HOST: '127.0.0.1',
    PUBLIC_URL: `http://127.0.0.1:${httpPort}`,
    REDIS_URL: TEST_REDIS_URL,
    QUEUE_PREFIX: prefix,
    DATABASE_URL: TEST_DATABASE_URL,
    DATABASE_SCHEMA: schema,
    MAPPINGS_DIR: './mappings',
    // Times sent without an offset are read in this zone: pinned so no test depends on the host's.
    DEFAULT_TIMEZONE: 'UTC',
    LOG_LEVEL: 'silent',
    WORKER_CONCURRENCY: '4',
    ...o.env,
  });
  const { env: _env, reuse: _reuse, ...engineOptions } = o;
  const engine = await startEngine({ ...engineOptions, config });
  return {
    ...engine,
    schema,
    prefix,
    async destroy() {
      await engine.stop();
      await dropEngineData(schema, prefix);
    },
  };
}

/** Ports this process has handed out: the OS may give a just-closed port to the next caller. */
const handedOut = new Set<number>();

/**
 * A port free right now on loopback, and not one handed out before in this process: two calls in
 * a row (an MLLP and an HTTP port) could otherwise get the same number and one bind would fail.
 */
export async function freePort(): Promise<number> {
  for (;;) {
    const server = net.createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as net.AddressInfo;
    await new Promise((resolve) => server.close(resolve));
    if (!handedOut.has(port)) {
      handedOut.add(port);
      return port;
    }
  }
}

/** Deletes a test engine's schema and queue keys. */
export async function dropEngineData(schema: string, prefix: string): Promise<void> {
  await obliterateQueue(prefix);
  const db = await openDb({ url: TEST_DATABASE_URL, schema: 'public', dataDir: 'memory://' });
  await db.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  await db.close();
}

/** Deletes a queue prefix's keys from Redis. */
export async function obliterateQueue(prefix: string): Promise<void> {
  const redis = new Redis(TEST_REDIS_URL, { maxRetriesPerRequest: null });
  for (const name of [PROCESS_QUEUE, NOTIFY_QUEUE, DELIVER_QUEUE, REPLAY_QUEUE, MAINTENANCE_QUEUE]) {
    const queue = new Queue(name, { connection: redis, prefix });
    await queue.obliterate({ force: true }).catch(() => undefined);
    await queue.close();
  }
  redis.disconnect();
}

/** Polls until `check` returns true or the timeout passes. */
export async function waitFor(
  check: () => Promise<boolean>,
  timeoutMs = 20_000,
  what = 'condition',
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
