/**
 * The outbox: events are rows written in the transaction that made the change they describe, so
 * an event exists exactly when its change does. A relay moves committed rows to the delivery
 * queue; nothing is sent for a change that rolled back.
 */
import { ASYNC_COMMIT_SQL } from './commit-mode';
import type { Queryable } from './db';

/** An event as the processing stage hands it over; the payload holds references only. */
export interface NewOutboxEvent {
  readonly key: string;
  readonly kind: string;
  readonly patient: string | undefined;
  readonly payload: Record<string, unknown>;
}

/** What names an outbox row's delivery job (row ids repeat across database lifetimes). */
export interface OutboxRef {
  readonly id: string;
  readonly stamp: string;
}

/** `notified`: its recipients are known and each has a notice (store/notification-store.ts). */
export type OutboxStatus = 'pending' | 'notified' | 'delivered' | 'no-recipient' | 'failed';

export interface OutboxRow extends OutboxRef {
  readonly eventKey: string;
  readonly messageId: string;
  readonly kind: string;
  readonly patientKey: string | null;
  readonly payload: Record<string, unknown>;
  readonly status: OutboxStatus;
  readonly attempts: number;
  readonly createdAt: Date;
}

const REF_COLUMNS = `id::text AS id, (extract(epoch FROM created_at) * 1000000)::bigint::text AS stamp`;

/**
 * Writes the events; an event whose key is already there (the same change processed again) is
 * not written twice. Returns the rows written.
 */
export async function insertOutboxEvents(
  tx: Queryable,
  messageId: string,
  events: readonly NewOutboxEvent[],
): Promise<OutboxRef[]> {
  if (events.length === 0) return [];
  return tx.query<{ id: string; stamp: string }>(
    `INSERT INTO outbox (event_key, message_id, kind, patient_key, payload)
     SELECT e.key, $1, e.kind, e.patient, e.payload
       FROM jsonb_to_recordset($2::jsonb) AS e(key text, kind text, patient text, payload jsonb)
     ON CONFLICT (event_key) DO NOTHING
     RETURNING ${REF_COLUMNS}`,
    [messageId, JSON.stringify(events)],
    { prepared: true },
  );
}

/**
 * Marks rows as handed to the delivery queue. Bookkeeping only, so its commit does not wait for
 * the disk (ASYNC_COMMIT_SQL): if a crash loses the mark, the sweep relays the rows again under
 * the same job ids, which is a no-op for jobs that exist.
 *
 * A row its notify job has locked is skipped, not waited for: the processing stage relays right
 * after its commit, and the job it just queued may already hold the row for a whole attribution
 * transaction, which would keep this processing slot idle until then. That job's
 * `finishOutboxRow` sets the mark instead; if it rolls back, the row stays pending and
 * unmarked, and the sweep relays it again under the same job id.
 */
export async function markRelayed(db: Queryable, ids: readonly string[]): Promise<void> {
  if (ids.length === 0) return;
  await db.query(
    `WITH ${ASYNC_COMMIT_SQL}
     UPDATE outbox SET relayed_at = now() FROM commit_mode
      WHERE id IN (SELECT id FROM outbox WHERE id = ANY($1::bigint[]) FOR UPDATE SKIP LOCKED)`,
    [ids],
    { prepared: true },
  );
}

/**
 * Pending rows created before `before` that were never relayed, or were relayed before it and
 * are still pending (Redis lost the job), oldest first, after `afterId` (keyset paging). A job that still exists is not added
 * twice: its id is the row's.
 */
export async function listUnrelayed(
  db: Queryable,
  before: Date,
  limit: number,
  afterId = '0',
): Promise<OutboxRef[]> {
  return db.query<{ id: string; stamp: string }>(
    `SELECT ${REF_COLUMNS} FROM outbox
      WHERE status = 'pending' AND created_at < $1 AND (relayed_at IS NULL OR relayed_at < $1)
        AND id > $3::bigint
      -- The table's id, not the text alias of the same name: text would order '10' before '9'.
      ORDER BY outbox.id LIMIT $2`,
    [before, limit, afterId],
  );
}

/** One row, locked for the delivery that owns it. */
export async function lockOutboxRow(tx: Queryable, id: string): Promise<OutboxRow | undefined> {
  const [r] = await tx.query<{
    id: string;
    stamp: string;
    event_key: string;
    message_id: string;
    kind: string;
    patient_key: string | null;
    payload: Record<string, unknown>;
    status: OutboxStatus;
    attempts: number;
    created_at: Date;
  }>(
    `SELECT ${REF_COLUMNS}, event_key, message_id::text AS message_id, kind, patient_key, payload, status, attempts,
            created_at
       FROM outbox WHERE id = $1 FOR UPDATE`,
    [id],
    { prepared: true },
  );
  if (r === undefined) return undefined;
  return {
    id: r.id,
    stamp: r.stamp,
    eventKey: r.event_key,
    messageId: r.message_id,
    kind: r.kind,
    patientKey: r.patient_key,
    payload: r.payload,
    status: r.status,
    attempts: r.attempts,
    createdAt: r.created_at,
  };
}

/**
 * Records how an attribution attempt ended. The row's job is running, so it was relayed: the
 * mark is set here too, for the relay that skipped the row while this job held it.
 */
export async function finishOutboxRow(
  db: Queryable,
  id: string,
  status: OutboxStatus,
  detail?: unknown,
): Promise<void> {
  await db.query(
    `UPDATE outbox SET status = $2, attempts = attempts + 1, detail = $3,
       finished_at = CASE WHEN $2 = 'pending' THEN NULL ELSE now() END,
       relayed_at = coalesce(relayed_at, now())
     WHERE id = $1`,
    [id, status, detail === undefined ? null : JSON.stringify(detail)],
    { prepared: true },
  );
}
