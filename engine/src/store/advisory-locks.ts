/**
 * Transaction-scoped advisory locks on string keys, taken in one global order. Row locks alone
 * are not enough where rows are created: two transactions inserting each other's new rows in
 * different orders wait on each other's uncommitted inserts, which no sort of existing rows
 * prevents. Locking the keys first, sorted, makes every such pair queue instead of deadlock.
 */
import { createHash } from 'node:crypto';
import type { Queryable } from './db';

/** The two 32-bit halves of a key's lock (the two-int form: a space apart from migrations'). */
function lockIds(key: string): [number, number] {
  const digest = createHash('sha256').update(key).digest();
  return [digest.readInt32BE(0), digest.readInt32BE(4)];
}

/** Locks every key until the transaction ends; callers prefix keys with what they name. */
export async function lockKeys(tx: Queryable, keys: readonly string[]): Promise<void> {
  const ids = [...new Set(keys)].map(lockIds).sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  if (ids.length === 0) return;
  // One round trip: PostgreSQL evaluates a volatile function in the select list after ORDER BY,
  // so the locks are taken in the sorted order. Its own statement, never a CTE of the reads it
  // guards: a statement's snapshot is taken before it waits, and would miss the holder's commit.
  await tx.query(
    `SELECT pg_advisory_xact_lock(a, b) FROM unnest($1::int[], $2::int[]) WITH ORDINALITY AS k(a, b, n) ORDER BY n`,
    [ids.map((i) => i[0]), ids.map((i) => i[1])],
    { prepared: true },
  );
}
