/**
 * Handing over to the next message of a key costs the rows of that key's waiting messages, not
 * of the archive or of the backlog. Every processed message runs the hand-over, and the usual key
 * has nothing waiting. The sessions plan generically and keep the plan the statistics of the day
 * suggested: with a backlog in them, `ORDER BY id LIMIT 1` walked the primary key through every
 * message ever archived; with few unfinished messages in them and a backlog since (a catch-up
 * after an outage, before autovacuum analyzes again), a scan of the status index read the whole
 * backlog. Counted in tuples read for the transaction (pg_stat_xact_user_tables), which no timing
 * noise moves.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { Queryable } from '../../engine/src/store/db';
import { finishMessage } from '../../engine/src/store/message-archive';
import { parkMessage, takeParkedSuccessors } from '../../engine/src/store/message-order';
import { createTestDb, type TestDb } from '../helpers/test-db';

const ARCHIVED = 5_000;
const dbs: TestDb[] = [];
afterEach(async () => {
  await Promise.all(dbs.splice(0).map((d) => d.drop()));
});

/** An archive of `total` messages, one patient each, the last `unfinished` of them not done. */
async function archive(unfinished: number, total = ARCHIVED): Promise<TestDb> {
  const t = await createTestDb('order_scale');
  dbs.push(t);
  await t.db.query(
    `INSERT INTO messages (sender, sending_facility, control_id, patient_key, raw, content_hash, status, order_keys)
     SELECT 'APP^FAC', 'FAC', 'C' || g, 'FAC|P' || g, convert_to('MSH|' || g, 'UTF8'), md5(g::text),
            CASE WHEN g > $1::int - $2::int THEN 'received' ELSE 'processed' END, ARRAY['person:' || g]
       FROM generate_series(1, $1::int) AS g`,
    [total, unfinished],
  );
  return t;
}

/** Messages `from`+1 to `to`, one patient each, none processed yet. */
async function addBacklog(t: TestDb, from: number, to: number): Promise<void> {
  await t.db.query(
    `INSERT INTO messages (sender, sending_facility, control_id, patient_key, raw, content_hash, status, order_keys)
     SELECT 'APP^FAC', 'FAC', 'C' || g, 'FAC|P' || g, convert_to('MSH|' || g, 'UTF8'), md5(g::text), 'received', ARRAY['person:' || g]
       FROM generate_series($1::int + 1, $2::int) AS g`,
    [from, to],
  );
}

/** Tuples of `messages` this transaction has read so far, by index or by scan. */
async function tuplesRead(tx: Queryable): Promise<number> {
  const [row] = await tx.query<{ n: string }>(
    `SELECT (coalesce(seq_tup_read, 0) + coalesce(idx_tup_fetch, 0))::text AS n
       FROM pg_stat_xact_user_tables WHERE schemaname = current_schema() AND relname = 'messages'`,
  );
  return Number(row?.n ?? 0);
}

async function handOverReads(t: TestDb, key: string): Promise<{ woken: string[]; read: number }> {
  return t.db.transaction(async (tx) => {
    const before = await tuplesRead(tx);
    const refs = await takeParkedSuccessors(tx, [key]);
    return { woken: refs.map((r) => r.id), read: (await tuplesRead(tx)) - before };
  });
}

describe('hand-over to the next message of a key', () => {
  it('reads a handful of rows with half the archive unfinished and analyzed so', async () => {
    const t = await archive(ARCHIVED / 2);
    await t.db.exec('ANALYZE messages');
    const handOver = await handOverReads(t, 'FAC|no-such-patient');
    expect(handOver.woken).toEqual([]);
    expect(handOver.read).toBeLessThan(10);
  });

  it('reads a handful of rows when a backlog built up after the statistics were taken', async () => {
    // Analyzed with everything finished, as after a quiet warm-up; then the backlog arrives.
    const t = await archive(0, 300);
    await t.db.exec('ANALYZE messages');
    await addBacklog(t, 300, ARCHIVED);
    expect((await handOverReads(t, 'FAC|no-such-patient')).read).toBeLessThan(10);
    expect((await handOverReads(t, `FAC|P${ARCHIVED}`)).read).toBeLessThan(10);
  });

  it('wakes the first unfinished message of the key when it is parked, and no later one', async () => {
    const t = await archive(3);
    await t.db.exec('ANALYZE messages');
    const ids = (
      await t.db.query<{ id: string }>(
        `SELECT id::text AS id FROM messages WHERE status = 'received' ORDER BY id`,
      )
    ).map((r) => r.id);
    const [first, second, third] = ids;
    if (first === undefined || second === undefined || third === undefined) throw new Error('no backlog');
    // Three messages of one patient: the second and third wait.
    await t.db.query(`UPDATE messages SET patient_key = 'FAC|SAME' WHERE id = ANY($1::bigint[])`, [ids]);
    await t.db.transaction(async (tx) => {
      await parkMessage(tx, second);
      await parkMessage(tx, third);
    });
    // The first is still unfinished, so neither is woken.
    expect((await handOverReads(t, 'FAC|SAME')).woken).toEqual([]);
    await t.db.query(`UPDATE messages SET status = 'processed' WHERE id = $1`, [first]);
    const handOver = await handOverReads(t, 'FAC|SAME');
    expect(handOver.woken).toEqual([second]);
    // The key's three messages, each read once or twice, and the row woken: not the archive.
    expect(handOver.read).toBeLessThan(20);
    // Woken once: the second now runs, and the third waits for it.
    expect((await handOverReads(t, 'FAC|SAME')).woken).toEqual([]);
  });

  it('finds a waiting message by its extra order keys (a merge) as well', async () => {
    const t = await archive(2);
    const ids = (
      await t.db.query<{ id: string }>(
        `SELECT id::text AS id FROM messages WHERE status = 'received' ORDER BY id`,
      )
    ).map((r) => r.id);
    const [, merged] = ids;
    if (merged === undefined) throw new Error('no backlog');
    await t.db.query(`UPDATE messages SET order_keys = ARRAY['FAC|OLD'] WHERE id = $1`, [merged]);
    await t.db.transaction((tx) => parkMessage(tx, merged));
    await t.db.query(`UPDATE messages SET status = 'processed' WHERE id <> $1::bigint`, [merged]);
    expect((await handOverReads(t, 'FAC|OLD')).woken).toEqual([merged]);
  });

  it('a message finished while parked (run by the recovery sweep) leaves the parked set', async () => {
    const t = await archive(1);
    const [row] = await t.db.query<{ id: string }>(
      `SELECT id::text AS id FROM messages WHERE status = 'received'`,
    );
    if (row === undefined) throw new Error('no backlog');
    await t.db.transaction((tx) => parkMessage(tx, row.id));
    await finishMessage(t.db, row.id, { status: 'processed', processingMs: 1 });
    const parked = await t.db.query(`SELECT id FROM messages WHERE parked`);
    expect(parked).toEqual([]);
  });
});
