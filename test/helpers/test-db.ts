/**
 * A fresh PostgreSQL schema per test, migrated, and dropped afterwards, so tests run in any
 * order against the machine's real PostgreSQL.
 */
import { randomUUID } from 'node:crypto';
import { openDb, type Db } from '../../engine/src/store/db';
import { migrate } from '../../engine/src/store/migrate';

export const TEST_DATABASE_URL =
  process.env['TEST_DATABASE_URL'] ?? 'postgres://postgres@127.0.0.1:5432/test';
export const TEST_REDIS_URL = process.env['TEST_REDIS_URL'] ?? 'redis://127.0.0.1:6379';

export interface TestDb {
  readonly db: Db;
  readonly schema: string;
  /** Closes the pool and drops the schema. */
  drop(): Promise<void>;
}

/** A unique name usable as schema, queue prefix or file stem. */
export function uniqueName(prefix: string): string {
  return `${prefix}_${randomUUID().replaceAll('-', '').slice(0, 12)}`;
}

/** Creates and migrates a schema of its own. */
export async function createTestDb(prefix = 't'): Promise<TestDb> {
  const schema = uniqueName(prefix);
  const db = await openDb({ url: TEST_DATABASE_URL, schema, dataDir: 'memory://' });
  await migrate(db);
  return {
    db,
    schema,
    async drop() {
      await db.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
      await db.close();
    },
  };
}
