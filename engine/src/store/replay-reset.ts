/**
 * Putting archived messages back to `received` for a replay, one (the admin API's replay) or a
 * batch (a bulk replay) in one statement: error and error group cleared, un-parked, and rejected
 * messages left alone, since nothing can process them.
 */
import type { Queryable } from './db';
import { JOB_REF_COLUMNS, type MessageJobRef } from './message-archive';

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

const REF_COLUMNS = `${JOB_REF_COLUMNS}, control_id`;

function toRefs(rows: readonly RefRow[]): ReplayRef[] {
  return rows
    .map((r) => ({ id: r.id, stamp: r.stamp, parkCount: r.park_count, controlId: r.control_id ?? '' }))
    .sort((a, b) => compareIds(a.id, b.id));
}

/**
 * Resets `ids` (decimal message ids) for replay; returns the ones reset, by id. Absent: those
 * that do not exist or were rejected.
 */
export async function resetForReplay(db: Queryable, ids: readonly string[]): Promise<ReplayRef[]> {
  if (ids.length === 0) return [];
  const rows = await db.query<RefRow>(
    `UPDATE messages SET status = 'received', error = NULL, error_key = NULL, parked = false
      WHERE id = ANY($1::bigint[]) AND status <> 'rejected'
      RETURNING ${REF_COLUMNS}`,
    [ids],
  );
  return toRefs(rows);
}

/** The job references of `ids` that a replay would reset, without resetting them. */
export async function readReplayRefs(db: Queryable, ids: readonly string[]): Promise<ReplayRef[]> {
  if (ids.length === 0) return [];
  const rows = await db.query<RefRow>(
    `SELECT ${REF_COLUMNS} FROM messages WHERE id = ANY($1::bigint[]) AND status <> 'rejected'`,
    [ids],
  );
  return toRefs(rows);
}

/** Orders decimal message ids as numbers. */
export function compareIds(a: string, b: string): number {
  return a.length - b.length || (a < b ? -1 : a > b ? 1 : 0);
}
