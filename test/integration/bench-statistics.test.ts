/**
 * A benchmark's schema is analyzed after its warm-up, as autovacuum would have analyzed a live
 * engine's tables by then: every table of that schema, and nothing of anyone else's.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { analyzeSchema } from '../../engine/src/store/planner-statistics';
import { createTestDb, type TestDb } from '../helpers/test-db';

let bench: TestDb;
let other: TestDb;

beforeAll(async () => {
  [bench, other] = await Promise.all([createTestDb('bench_stats'), createTestDb('other_stats')]);
});
afterAll(async () => {
  await Promise.all([bench.drop(), other.drop()]);
});

async function analyzed(t: TestDb): Promise<{ analyzed: number; tables: number }> {
  const [row] = await t.db.query<{ analyzed: number; tables: number }>(
    `SELECT count(*) FILTER (WHERE last_analyze IS NOT NULL)::int AS analyzed, count(*)::int AS tables
       FROM pg_stat_user_tables WHERE schemaname = current_schema()`,
  );
  return row ?? { analyzed: 0, tables: 0 };
}

describe('analyzeSchema', () => {
  it("analyzes every table of the bench's schema and no other", async () => {
    expect((await analyzed(bench)).analyzed).toBe(0);
    await analyzeSchema(bench.db);
    const mine = await analyzed(bench);
    expect(mine.tables).toBeGreaterThan(10);
    expect(mine.analyzed).toBe(mine.tables);
    expect((await analyzed(other)).analyzed).toBe(0);
  });
});
