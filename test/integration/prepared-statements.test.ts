/**
 * Prepared statements on one PostgreSQL session: each text is prepared once under its own name
 * and run again from it, and two texts never clash, whichever call site sends them.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { preparedName } from '../../engine/src/store/db';
import { createTestDb, type TestDb } from '../helpers/test-db';

let t: TestDb;
beforeAll(async () => {
  t = await createTestDb('prepared');
});
afterAll(async () => {
  await t.drop();
});

describe('prepared statements', () => {
  it('prepare each text once per session under a name of its own', async () => {
    const byId = 'SELECT id::text AS id FROM messages WHERE id = $1';
    const byIdLocked = 'SELECT id::text AS id FROM messages WHERE id = $1 FOR UPDATE';
    const prepared = await t.db.transaction(async (tx) => {
      for (const sql of [byId, byIdLocked, byId, byIdLocked]) {
        expect(await tx.query(sql, ['1'], { prepared: true })).toEqual([]);
      }
      return tx.query<{ name: string; statement: string }>(
        `SELECT name, statement FROM pg_prepared_statements ORDER BY statement`,
      );
    });
    expect(prepared).toEqual([
      { name: preparedName(byId), statement: byId },
      { name: preparedName(byIdLocked), statement: byIdLocked },
    ]);
  });
});
