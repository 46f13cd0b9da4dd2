/**
 * Notices: one row per event and recipient, written when the event's recipients are worked out,
 * then updated by each delivery attempt. The row, not the queue, says whether a PCP was told; the
 * attempts table is the delivery log an analyst reads.
 */
import { ASYNC_COMMIT_SQL } from './commit-mode';
import type { Queryable } from './db';

export type NoticeChannel = 'davinci' | 'subscription' | 'webhook' | 'inbox';
/** Every state of a notice (migration 008). */
export const NOTICE_STATUSES = ['pending', 'retrying', 'delivered', 'failed'] as const;
export type NoticeStatus = (typeof NOTICE_STATUSES)[number];

/** Why a recipient is told: which attribution source, for which practitioner, through what. */
export interface NoticeReason {
  readonly source: 'message' | 'person' | 'roster' | 'subscription';
  /** `Practitioner/<id>` or `npi:<number>`; absent for a subscription on a patient. */
  readonly practitioner?: string;
  /** The record or roster the attribution came from: `Patient/<id>`, `Group/<id>`, `roster:<org>`. */
  readonly via: string;
}

export interface NewNotice {
  readonly noticeId: string;
  readonly channel: NoticeChannel;
  readonly target: string;
  readonly reasons: readonly NoticeReason[];
  readonly eventNumber?: number;
  /** An inbox notice is written in place, so it starts delivered. @defaultValue pending */
  readonly delivered?: boolean;
}

export interface NoticeRef {
  readonly id: string;
  readonly stamp: string;
  readonly round: number;
  /** When a notice waiting between attempts is due again; its job is delayed until then. */
  readonly dueAt?: Date;
}

export interface NoticeRow extends NoticeRef {
  readonly noticeId: string;
  readonly outboxId: string;
  readonly eventKey: string;
  readonly kind: string;
  readonly patientRef: string | null;
  readonly channel: NoticeChannel;
  readonly target: string;
  readonly reasons: readonly NoticeReason[];
  readonly eventNumber: number | null;
  readonly status: NoticeStatus;
  readonly attempts: number;
  readonly lastStatusCode: number | null;
  readonly lastError: string | null;
  readonly createdAt: Date;
  readonly deliveredAt: Date | null;
  readonly payload: Record<string, unknown>;
}

const REF = `n.id::text AS id, (extract(epoch FROM n.created_at) * 1000000)::bigint::text AS stamp, n.round`;

interface Row {
  id: string;
  stamp: string;
  round: number;
  notice_id: string;
  outbox_id: string;
  event_key: string;
  kind: string;
  patient_ref: string | null;
  channel: NoticeChannel;
  target: string;
  reasons: NoticeReason[];
  event_number: string | null;
  status: NoticeStatus;
  attempts: number;
  last_status_code: number | null;
  last_error: string | null;
  created_at: Date;
  delivered_at: Date | null;
  payload: Record<string, unknown>;
}

const COLUMNS = `${REF}, n.notice_id::text AS notice_id, n.outbox_id::text AS outbox_id, n.event_key, n.kind,
  n.patient_ref, n.channel, n.target, n.reasons, n.event_number::text AS event_number, n.status, n.attempts,
  n.last_status_code, n.last_error, n.created_at, n.delivered_at, o.payload`;

function toRow(r: Row): NoticeRow {
  return {
    id: r.id,
    stamp: r.stamp,
    round: r.round,
    noticeId: r.notice_id,
    outboxId: r.outbox_id,
    eventKey: r.event_key,
    kind: r.kind,
    patientRef: r.patient_ref,
    channel: r.channel,
    target: r.target,
    reasons: r.reasons,
    eventNumber: r.event_number === null ? null : Number(r.event_number),
    status: r.status,
    attempts: r.attempts,
    lastStatusCode: r.last_status_code,
    lastError: r.last_error,
    createdAt: r.created_at,
    deliveredAt: r.delivered_at,
    payload: r.payload,
  };
}

/**
 * Writes an event's notices; one already there (the event attributed again after a crash) is
 * not written twice. Returns the rows written that still need delivering.
 */
export async function insertNotices(
  tx: Queryable,
  event: {
    readonly outboxId: string;
    readonly eventKey: string;
    readonly kind: string;
    readonly patient: string | null;
  },
  notices: readonly NewNotice[],
): Promise<NoticeRef[]> {
  if (notices.length === 0) return [];
  const rows = await tx.query<{ id: string; stamp: string; round: number; status: NoticeStatus }>(
    `INSERT INTO notifications AS n (notice_id, outbox_id, event_key, kind, patient_ref, channel, target, reasons,
                                     event_number, status, attempts, delivered_at, finished_at, queued_at)
     SELECT e.notice_id::uuid, $1, $2, $3, $4, e.channel, e.target, e.reasons, e.event_number,
            CASE WHEN e.delivered THEN 'delivered' ELSE 'pending' END,
            CASE WHEN e.delivered THEN 1 ELSE 0 END,
            CASE WHEN e.delivered THEN now() END, CASE WHEN e.delivered THEN now() END,
            CASE WHEN e.delivered THEN now() END
       FROM jsonb_to_recordset($5::jsonb)
         AS e(notice_id text, channel text, target text, reasons jsonb, event_number bigint, delivered boolean)
     ON CONFLICT (event_key, channel, target) DO NOTHING
     RETURNING ${REF}, n.status`,
    [
      event.outboxId,
      event.eventKey,
      event.kind,
      event.patient,
      JSON.stringify(
        notices.map((n) => ({
          notice_id: n.noticeId,
          channel: n.channel,
          target: n.target,
          reasons: n.reasons,
          event_number: n.eventNumber ?? null,
          delivered: n.delivered === true,
        })),
      ),
    ],
    { prepared: true },
  );
  return rows.filter((r) => r.status === 'pending').map(({ id, stamp, round }) => ({ id, stamp, round }));
}

/**
 * Marks notices as handed to the delivery queue. Bookkeeping only, so its commit does not wait
 * for the disk (ASYNC_COMMIT_SQL): if a crash loses the mark, the sweep queues the notices again
 * under the same job ids, which is a no-op for jobs that exist.
 */
export async function markNoticesQueued(db: Queryable, ids: readonly string[]): Promise<void> {
  if (ids.length === 0) return;
  await db.query(
    `WITH ${ASYNC_COMMIT_SQL} UPDATE notifications SET queued_at = now() FROM commit_mode WHERE id = ANY($1::bigint[])`,
    [ids],
    { prepared: true },
  );
}

export interface UnqueuedNoticeOptions {
  /** Only notices with a larger id (paging: the caller passes the last id it got). */
  readonly afterId?: string;
  /**
   * Also notices waiting for an attempt that is not due yet: at start-up Redis may have lost any
   * job, a delayed one included.
   */
  readonly includeWaiting?: boolean;
}

/**
 * Open notices whose delivery job may be gone: never queued (a crash between commit and queue),
 * or queued and due for longer than `before` allows (Redis lost the job). Re-adding a job that
 * still exists is a no-op, as its id is the notice's. Oldest first.
 */
export async function listUnqueuedNotices(
  db: Queryable,
  before: Date,
  limit: number,
  o: UnqueuedNoticeOptions = {},
): Promise<NoticeRef[]> {
  const rows = await db.query<{ id: string; stamp: string; round: number; next_attempt_at: Date | null }>(
    `SELECT ${REF}, n.next_attempt_at FROM notifications n
      WHERE n.status IN ('pending', 'retrying') AND n.created_at < $1
        AND (n.queued_at IS NULL OR coalesce(n.next_attempt_at, n.queued_at) < $1 OR $4::boolean)
        AND n.id > $3::bigint
      ORDER BY n.id LIMIT $2`,
    [before, limit, o.afterId ?? '0', o.includeWaiting === true],
  );
  return rows.map(({ next_attempt_at: dueAt, ...ref }) => (dueAt === null ? ref : { ...ref, dueAt }));
}

/** One notice with its event's payload. */
export async function readNotice(db: Queryable, id: string): Promise<NoticeRow | undefined> {
  const [r] = await db.query<Row>(
    `SELECT ${COLUMNS} FROM notifications n JOIN outbox o ON o.id = n.outbox_id WHERE n.id = $1`,
    [id],
    { prepared: true },
  );
  return r === undefined ? undefined : toRow(r);
}

/** How one attempt ended, as the delivery log keeps it. */
export interface AttemptRecord {
  readonly startedAt: Date;
  readonly latencyMs: number | undefined;
  readonly statusCode: number | undefined;
  readonly outcome: 'delivered' | 'retry' | 'failed';
  readonly error: string | undefined;
  readonly nextAttemptAt?: Date;
}

/**
 * Logs an attempt and moves the notice on, in one statement. Only a notice still open is moved:
 * an attempt that ends after an analyst's retry or a concurrent success changes nothing.
 */
export async function recordAttempt(db: Queryable, id: string, a: AttemptRecord): Promise<boolean> {
  const status: NoticeStatus =
    a.outcome === 'delivered' ? 'delivered' : a.outcome === 'retry' ? 'retrying' : 'failed';
  const rows = await db.query<{ attempts: number }>(
    `WITH n AS (
       UPDATE notifications SET status = $2, attempts = attempts + 1, last_status_code = $3, last_error = $4,
              next_attempt_at = $5,
              delivered_at = CASE WHEN $2 = 'delivered' THEN now() ELSE delivered_at END,
              finished_at = CASE WHEN $2 IN ('delivered', 'failed') THEN now() ELSE NULL END
        WHERE id = $1 AND status IN ('pending', 'retrying')
        RETURNING attempts)
     INSERT INTO notification_attempts (notification_id, attempt, started_at, latency_ms, status_code, outcome, error)
     SELECT $1, attempts, $6, $7, $3, $8, $4 FROM n
     RETURNING attempt AS attempts`,
    [
      id,
      status,
      a.statusCode ?? null,
      a.error ?? null,
      a.nextAttemptAt ?? null,
      a.startedAt,
      a.latencyMs ?? null,
      a.outcome,
    ],
    { prepared: true },
  );
  return rows.length > 0;
}

/** Puts a failed notice back to pending for another round of attempts; its ref, or undefined. */
export async function reopenNotice(db: Queryable, id: string): Promise<NoticeRef | undefined> {
  const [r] = await db.query<NoticeRef>(
    `UPDATE notifications n SET status = 'pending', round = round + 1, last_error = NULL, next_attempt_at = NULL,
            finished_at = NULL, queued_at = now()
      WHERE n.id = $1 AND n.status = 'failed'
      RETURNING ${REF}`,
    [id],
  );
  return r;
}

/** One attempt as the delivery log shows it. */
export interface AttemptRow {
  readonly attempt: number;
  readonly startedAt: Date;
  readonly latencyMs: number | null;
  readonly statusCode: number | null;
  readonly outcome: string;
  readonly error: string | null;
}

export async function readAttempts(
  db: Queryable,
  ids: readonly string[],
): Promise<Map<string, AttemptRow[]>> {
  const rows = await db.query<{
    notification_id: string;
    attempt: number;
    started_at: Date;
    latency_ms: number | null;
    status_code: number | null;
    outcome: string;
    error: string | null;
  }>(
    `SELECT notification_id::text AS notification_id, attempt, started_at, latency_ms, status_code, outcome, error
       FROM notification_attempts WHERE notification_id = ANY($1::bigint[]) ORDER BY notification_id, attempt`,
    [ids],
  );
  const out = new Map<string, AttemptRow[]>();
  for (const r of rows) {
    const list = out.get(r.notification_id) ?? [];
    list.push({
      attempt: r.attempt,
      startedAt: r.started_at,
      latencyMs: r.latency_ms,
      statusCode: r.status_code,
      outcome: r.outcome,
      error: r.error,
    });
    out.set(r.notification_id, list);
  }
  return out;
}

export interface NoticeFilter {
  readonly status?: NoticeStatus;
  readonly target?: string;
  readonly patient?: string;
  readonly eventKey?: string;
  /** Rows with a smaller id than this (paging newest first). */
  readonly before?: string;
  readonly limit: number;
}

/** Notices newest first, filtered. */
export async function findNotices(db: Queryable, f: NoticeFilter): Promise<NoticeRow[]> {
  const rows = await db.query<Row>(
    `SELECT ${COLUMNS} FROM notifications n JOIN outbox o ON o.id = n.outbox_id
      WHERE ($1::text IS NULL OR n.status = $1)
        AND ($2::text IS NULL OR n.target = $2)
        AND ($3::text IS NULL OR n.patient_ref = $3)
        AND ($4::text IS NULL OR n.event_key = $4)
        AND ($5::bigint IS NULL OR n.id < $5)
      ORDER BY n.id DESC LIMIT $6`,
    [f.status ?? null, f.target ?? null, f.patient ?? null, f.eventKey ?? null, f.before ?? null, f.limit],
  );
  return rows.map(toRow);
}
