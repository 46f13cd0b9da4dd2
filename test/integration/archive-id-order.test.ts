/**
 * Reads of the archive newest first order by the bigint id, not its text: past id 9 a text sort
 * puts 9 before 89, a keyset cursor (`id <`) then skips rows, and "newest" samples are not.
 * Seeded straight into a schema of its own: the order is the store's, not the pipeline's.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { groupFailedMessages, SAMPLE_IDS } from '../../engine/src/store/error-groups';
import { readSenderMessages } from '../../engine/src/store/message-sample';
import { dryRunMessages } from '../../engine/src/pipeline/dry-run-messages';
import { createTestDb, type TestDb } from '../helpers/test-db';

const ROWS = 120;
let t: TestDb;

beforeAll(async () => {
  t = await createTestDb('order');
  // ids 1..120 from one sender; every row failed for one cause, so they form one error group.
  await t.db.query(
    `INSERT INTO messages (sender, sending_app, sending_facility, control_id, raw, content_hash, status, error, error_key)
     SELECT 'APP^FAC', 'APP', 'FAC', 'C' || g, convert_to('MSH|^~\\&|APP|FAC|||20240101||ADT^A01|C' || g || '|P|2.5', 'UTF8'),
            md5(g::text), 'failed', '{"code":"mapping-required","message":"needs PID-3.1"}'::jsonb, 'aaaaaaaaaaaaaaaa'
       FROM generate_series(1, ${ROWS}) AS g`,
  );
});
afterAll(async () => {
  await t.drop();
});

describe('archive reads in id order', () => {
  it('a sender sample pages through every message once, newest first', async () => {
    const first = await readSenderMessages(t.db, 'FAC', undefined, 50);
    expect(first.map((m) => Number(m.id))).toEqual(Array.from({ length: 50 }, (_v, i) => ROWS - i));
    const ids: number[] = [];
    for await (const page of dryRunMessages(t.db, { sender: 'FAC', last: 10_000 })) {
      ids.push(...page.map((m) => Number(m.id)));
    }
    expect(ids).toEqual(Array.from({ length: ROWS }, (_v, i) => ROWS - i));
  });

  it("an error group's sample ids are its newest messages", async () => {
    const [group] = await groupFailedMessages(t.db, {});
    expect(group?.count).toBe(ROWS);
    expect(group?.sampleIds).toEqual(Array.from({ length: SAMPLE_IDS }, (_v, i) => String(ROWS - i)));
  });
});
