/**
 * Per-patient processing order without polling. A message is processed under an advisory lock
 * on each of its patient keys, taken inside the processing transaction; under that lock it
 * either finds no earlier unfinished message of those patients and runs, or parks. Whoever
 * finishes a patient's message (processed or failed for good) wakes the next one, still under
 * the lock, so a park and its wake-up can never miss each other, in one process or many.
 *
 * Keys are opaque strings: `MSH-4|PID-3.1` today, the linked person once identity resolves it,
 * so "the same person at two hospitals" is ordered by the same code.
 */
import { lockKeys } from './advisory-locks';
import type { Queryable } from './db';
import {
  JOB_STAMP_SQL,
  MESSAGE_COLUMNS,
  toArchivedMessage,
  type ArchivedMessage,
  type MessageJobRef,
  type MessageRow,
  type MessageStatus,
} from './message-archive';

/** What ordering needs before any lock: the status and the keys, without the message bytes. */
export interface OrderHead {
  readonly status: MessageStatus;
  /** MSH-4.1, for the per-sender counters. */
  readonly sendingFacility: string | null;
  readonly patientKey: string | null;
  readonly otherPatientKeys: string[];
}

/** Reads a message's OrderHead, or undefined. */
export async function readOrderHead(tx: Queryable, id: string): Promise<OrderHead | undefined> {
  if (!/^\d+$/.test(id)) return undefined;
  const [row] = await tx.query<{
    status: MessageStatus;
    sending_facility: string | null;
    patient_key: string | null;
    order_keys: string[] | null;
  }>(`SELECT status, sending_facility, patient_key, order_keys FROM messages WHERE id = $1`, [id], {
    prepared: true,
  });
  return row === undefined
    ? undefined
    : {
        status: row.status,
        sendingFacility: row.sending_facility,
        patientKey: row.patient_key,
        otherPatientKeys: row.order_keys ?? [],
      };
}

/**
 * Under the keys' locks: the message, row-locked, and whether an unfinished message older than
 * it concerns any of `keys` (then it must wait), in one round trip.
 */
export async function lockMessageInTurn(
  tx: Queryable,
  id: string,
  keys: readonly string[],
): Promise<{ message: ArchivedMessage; waitForEarlier: boolean } | undefined> {
  const [row] = await tx.query<MessageRow & { wait_for_earlier: boolean }>(
    `SELECT ${MESSAGE_COLUMNS},
       EXISTS (SELECT 1 FROM messages e WHERE e.status = 'received' AND e.id < m.id
                 AND (e.patient_key = ANY($2::text[]) OR e.order_keys && $2::text[])) AS wait_for_earlier
       FROM messages m WHERE m.id = $1 FOR UPDATE OF m`,
    [id, keys],
    { prepared: true },
  );
  return row === undefined
    ? undefined
    : { message: toArchivedMessage(row), waitForEarlier: row.wait_for_earlier };
}

/**
 * Locks every key until the transaction ends, in one global order so two messages sharing keys
 * (a merge and either patient's next message) cannot deadlock.
 */
export async function lockOrderKeys(tx: Queryable, keys: readonly string[]): Promise<void> {
  await lockKeys(
    tx,
    keys.map((k) => `order:${k}`),
  );
}

/** Marks `id` as waiting for an earlier message; the one that finishes it wakes this one. */
export async function parkMessage(tx: Queryable, id: string): Promise<void> {
  await tx.query(`UPDATE messages SET parked = true, park_count = park_count + 1 WHERE id = $1`, [id]);
}

/**
 * After a message of `keys` finished (in the same transaction, under the lock): the first
 * unfinished message of each key, if it is parked, is un-parked and returned so the caller
 * queues it once the transaction commits. Waking only the first keeps a long queue linear: each
 * message wakes at most its successor. If the commit-then-queue step is lost (a crash), the
 * message is still `received` and the recovery sweep queues it.
 */
export async function takeParkedSuccessors(tx: Queryable, keys: readonly string[]): Promise<MessageJobRef[]> {
  const out = new Map<string, MessageJobRef>();
  for (const key of new Set(keys)) {
    const rows = await tx.query<{ id: string; stamp: string; park_count: number }>(
      // Read through indexes that hold only parked rows, with no condition on status a planner
      // could prefer to serve from the status index: the sessions plan generically
      // (plan_cache_mode), and a plan chosen while few messages were unfinished then scans the
      // whole backlog on every call, or with `ORDER BY id LIMIT 1` walks the primary key through
      // every message ever archived. Only when a message of the key waits is its queue read, for
      // the first unfinished one, which is woken if it is that parked message.
      `WITH candidates AS MATERIALIZED (
         SELECT id, status FROM messages WHERE parked AND patient_key = ANY($1::text[])
         UNION
         SELECT id, status FROM messages WHERE parked AND order_keys && $1::text[]),
       parked_waiting AS MATERIALIZED (SELECT id FROM candidates WHERE status = 'received'),
       first AS MATERIALIZED (
         SELECT min(id) AS id FROM (
           SELECT id FROM messages WHERE status = 'received' AND patient_key = ANY($1::text[])
           UNION ALL
           SELECT id FROM messages WHERE status = 'received' AND order_keys && $1::text[]) w
          WHERE EXISTS (SELECT 1 FROM parked_waiting))
       UPDATE messages SET parked = false
        WHERE id = (SELECT id FROM first) AND id IN (SELECT id FROM parked_waiting)
          -- Checked again on the row itself if another transaction woke it meanwhile (a merge's
          -- message waits on two keys, whose predecessors may finish at once).
          AND parked
        RETURNING id::text AS id, ${JOB_STAMP_SQL} AS stamp, park_count`,
      [[key]],
      { prepared: true },
    );
    for (const r of rows) out.set(r.id, { id: r.id, stamp: r.stamp, parkCount: r.park_count });
  }
  return [...out.values()];
}
