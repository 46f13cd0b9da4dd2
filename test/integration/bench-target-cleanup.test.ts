/**
 * A benchmark target that cannot start leaves nothing behind: the engine started before the
 * worker child failed is stopped, and its schema and queues are removed, as `close()` would.
 */
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { startBenchTarget } from '../../engine/src/cli/bench/bench-target';
import { openDb } from '../../engine/src/store/db';
import { TEST_DATABASE_URL, TEST_REDIS_URL, uniqueName } from '../helpers/test-db';

const env = {
  databaseUrl: TEST_DATABASE_URL,
  redisUrl: TEST_REDIS_URL,
  mappingsDir: fileURLToPath(new URL('../../mappings', import.meta.url)),
};
const redis = new Redis(TEST_REDIS_URL);
afterAll(() => {
  redis.disconnect();
});

describe('startBenchTarget', () => {
  it('removes the schema and queues it made when the worker child fails to start', async () => {
    const name = uniqueName('bench_fail');
    // Node refuses --cpu-prof in NODE_OPTIONS, so the worker child exits before it is ready,
    // after the in-process engine has migrated its schema and opened its queues.
    await expect(
      startBenchTarget('engine', env, { name, settings: { NODE_OPTIONS: '--cpu-prof' } }),
    ).rejects.toThrow(/worker process exited/);
    const db = await openDb({ url: TEST_DATABASE_URL, schema: 'public', dataDir: 'memory://', poolSize: 1 });
    try {
      const schemas = await db.query('SELECT 1 FROM pg_namespace WHERE nspname = $1', [name]);
      expect(schemas).toEqual([]);
    } finally {
      await db.close();
    }
    expect(await redis.keys(`${name}:*`)).toEqual([]);
  });
});
