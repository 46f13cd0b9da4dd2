/**
 * Handing over to the next message of a key costs the rows of that key's queue, not of the
 * archive. Every processed message runs the hand-over, and the usual key has no successor: a plan
 * that walks the archive in id order until one matches reads every message ever kept. PostgreSQL
 * picks that plan once its statistics show a backlog (half the archive unfinished here, as when
 * autovacuum analyzes during a catch-up), and keeps it for the session. Counted in tuples read
 * for the transaction (pg_stat_xact_user_tables), which no timing noise moves.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Queryable } from '../../engine/src/store/db';
import { parkMessage, takeParkedSuccessors } from '../../engine/src/store/message-order';
import { createTestDb, type TestDb } from '../helpers/test-db';

const ARCHIVED = 5_000;
let t: TestDb;

beforeAll(async () => {
  t = await createTestDb('order_scale');
  await t.db.query(
    `INSERT INTO messages (sender, sending_facility, control_id, patient_key, raw, content_hash, status)
     SELECT 'APP^FAC', 'FAC', 'C' || g, 'FAC|P' || g, convert_to('MSH|' || g, 'UTF8'), md5(g::text),
            CASE WHEN g > $1 / 2 THEN 'received' ELSE 'processed' END
       FROM generate_series(1, $1::int) AS g`,
    [ARCHIVED],
  );
  await t.db.exec('ANALYZE messages');
});
afterAll(async () => {
  await t.drop();
});

/** Tuples of `messages` this transaction has read so far, by index or by scan. */
async function tuplesRead(tx: Queryable): Promise<number> {
  const [row] = await tx.query<{ n: string }>(
    `SELECT (coalesce(seq_tup_read, 0) + coalesce(idx_tup_fetch, 0))::text AS n
       FROM pg_stat_xact_user_tables WHERE schemaname = current_schema() AND relname = 'messages'`,
  );
  return Number(row?.n ?? 0);
}

describe('hand-over to the next message of a key', () => {
  it('reads a handful of rows when the key has no successor, however large the archive', async () => {
    const read = await t.db.transaction(async (tx) => {
      const before = await tuplesRead(tx);
      expect(await takeParkedSuccessors(tx, ['FAC|no-such-patient'])).toEqual([]);
      return (await tuplesRead(tx)) - before;
    });
    expect(read).toBeLessThan(10);
  });

  it('still wakes the first parked message of the key', async () => {
    const [waiting] = await t.db.query<{ id: string; key: string }>(
      `SELECT id::text AS id, patient_key AS key FROM messages WHERE status = 'received' ORDER BY id LIMIT 1`,
    );
    if (waiting === undefined) throw new Error('no unfinished message');
    const woken = await t.db.transaction(async (tx) => {
      await parkMessage(tx, waiting.id);
      const before = await tuplesRead(tx);
      const refs = await takeParkedSuccessors(tx, [waiting.key]);
      return { refs, read: (await tuplesRead(tx)) - before };
    });
    expect(woken.refs.map((r) => r.id)).toEqual([waiting.id]);
    expect(woken.read).toBeLessThan(10);
  });
});
