/**
 * A prepared statement's plan is made again once its session is replaced, so a plan made while a
 * table was empty does not outlive the table's growth. PostgreSQL keeps a named statement's plan
 * for the session (until an ANALYZE, which never comes where autovacuum is off, as on this
 * machine): the key lookups of a fresh install were planned as scans of the whole table and kept.
 * Counted in tuples read for the transaction (pg_stat_xact_user_tables), not in time.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { setTimeout as sleep } from 'node:timers/promises';
import { openDb, type Db, type Queryable } from '../../engine/src/store/db';
import { readCurrentMany } from '../../engine/src/store/fhir-version-writer';
import { migrate } from '../../engine/src/store/migrate';
import { TEST_DATABASE_URL, uniqueName } from '../helpers/test-db';

const ROWS = 5_000;
const opened: { db: Db; schema: string }[] = [];
afterEach(async () => {
  for (const { db, schema } of opened.splice(0)) {
    await db.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await db.close();
  }
});

async function open(sessionLifetimeMs: number): Promise<Db> {
  const schema = uniqueName('plan_life');
  // One session, so the statement is planned and re-used on the same one.
  const db = await openDb({
    url: TEST_DATABASE_URL,
    schema,
    dataDir: 'memory://',
    poolSize: 1,
    sessionLifetimeMs,
  });
  opened.push({ db, schema });
  await migrate(db);
  return db;
}

async function lookupReads(db: Db): Promise<number> {
  return db.transaction(async (tx: Queryable) => {
    const read = async (): Promise<number> => {
      const [row] = await tx.query<{ n: string }>(
        `SELECT (coalesce(seq_tup_read, 0) + coalesce(idx_tup_fetch, 0))::text AS n
           FROM pg_stat_xact_user_tables WHERE schemaname = current_schema() AND relname = 'fhir_resources'`,
      );
      return Number(row?.n ?? 0);
    };
    const before = await read();
    await readCurrentMany(tx, [{ type: 'Patient', id: 'p-1' }]);
    return (await read()) - before;
  });
}

describe('pooled sessions', () => {
  it('plan a prepared lookup again for the table as it has grown', async () => {
    const db = await open(1_000);
    await lookupReads(db); // planned now, on the empty table
    await db.query(
      `INSERT INTO fhir_resources (resource_type, id, version_id, last_updated, event_time, content_hash, resource)
       SELECT 'Patient', 'p-' || g, 1, now(), now(), md5(g::text), jsonb_build_object('resourceType', 'Patient', 'id', 'p-' || g)
         FROM generate_series(1, $1::int) AS g`,
      [ROWS],
    );
    await sleep(1_500);
    expect(await lookupReads(db)).toBeLessThan(10);
  });
});
