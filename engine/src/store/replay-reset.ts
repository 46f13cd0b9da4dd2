/**
 * A bulk replay's reset: many archived messages put back to `received` in one statement, as the
 * single replay does one (message-archive.ts `resetForReplay`): error and error group cleared,
 * un-parked, and rejected messages left alone, since nothing can process them.
 */
import type { Queryable } from './db';
import { JOB_STAMP_SQL, type MessageJobRef } from './message-archive';

/** A reset message's job reference, with its MSH-10 for the job's log lines. */
export interface ReplayRef extends MessageJobRef {
  readonly controlId: string;
}

interface RefRow {
  id: string;
  stamp: string;
  park_count: number;
  control_id: string | null;
}

function toRef(r: RefRow): ReplayRef {
  return { id: r.id, stamp: r.stamp, parkCount: r.park_count, controlId: r.control_id ?? '' };
}

/** Resets `ids` for replay; returns the ones reset (absent: missing or rejected), by id. */
export async function resetManyForReplay(db: Queryable, ids: readonly string[]): Promise<ReplayRef[]> {
  if (ids.length === 0) return [];
  const rows = await db.query<RefRow>(
    `UPDATE messages SET status = 'received', error = NULL, error_key = NULL, parked = false
      WHERE id = ANY($1::bigint[]) AND status <> 'rejected'
      RETURNING id::text AS id, ${JOB_STAMP_SQL} AS stamp, park_count, control_id`,
    [ids],
  );
  return rows.map(toRef).sort((a, b) => compareIds(a.id, b.id));
}

/** The job references of `ids` that a replay would reset, without resetting them. */
export async function readReplayRefs(db: Queryable, ids: readonly string[]): Promise<ReplayRef[]> {
  if (ids.length === 0) return [];
  const rows = await db.query<RefRow>(
    `SELECT id::text AS id, ${JOB_STAMP_SQL} AS stamp, park_count, control_id FROM messages
      WHERE id = ANY($1::bigint[]) AND status <> 'rejected'`,
    [ids],
  );
  return rows.map(toRef).sort((a, b) => compareIds(a.id, b.id));
}

/** Orders decimal message ids as numbers. */
export function compareIds(a: string, b: string): number {
  return a.length - b.length || (a < b ? -1 : a > b ? 1 : 0);
}
