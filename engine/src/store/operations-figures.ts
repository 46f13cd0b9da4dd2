/**
 * The archive's side of the operations view: messages per sender by outcome over a window, and
 * notices by delivery state, each one grouped query over an indexed time range.
 */
import type { Queryable } from './db';
import type { NoticeStatus } from './notification-store';

/** One sender's messages received in the window, by what became of them. */
export interface SenderFigures {
  /** MSH-4 (the sending facility); empty when the message had none. */
  readonly sender: string;
  /** Every message archived in the window, whatever its status (duplicates are not new rows). */
  readonly received: number;
  readonly processed: number;
  readonly ignored: number;
  readonly failed: number;
  readonly rejected: number;
}

/** Senders listed at most; the busiest first. */
export const MAX_SENDERS = 500;

/** Per sender (MSH-4) counts of the messages received at or after `since`. */
export async function senderFigures(db: Queryable, since: Date): Promise<SenderFigures[]> {
  const rows = await db.query<{
    sender: string;
    received: string;
    processed: string;
    ignored: string;
    failed: string;
    rejected: string;
  }>(
    `SELECT COALESCE(sending_facility, '') AS sender,
            count(*)::text AS received,
            count(*) FILTER (WHERE status = 'processed')::text AS processed,
            count(*) FILTER (WHERE status = 'ignored')::text AS ignored,
            count(*) FILTER (WHERE status = 'failed')::text AS failed,
            count(*) FILTER (WHERE status = 'rejected')::text AS rejected
       FROM messages WHERE received_at >= $1
      GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT $2`,
    [since, MAX_SENDERS],
  );
  return rows.map((r) => ({
    sender: r.sender,
    received: Number(r.received),
    processed: Number(r.processed),
    ignored: Number(r.ignored),
    failed: Number(r.failed),
    rejected: Number(r.rejected),
  }));
}

/** Notices written in the window, by their delivery state now; 0 for a state none is in. */
export type DeliveryFigures = Readonly<Record<NoticeStatus, number>>;

/**
 * Counts the notices created at or after `since` by status; without `since`, every notice kept
 * (the `notification_states` gauge).
 */
export async function deliveryFigures(db: Queryable, since?: Date): Promise<DeliveryFigures> {
  const rows = await db.query<{ status: string; n: string }>(
    `SELECT status, count(*)::text AS n FROM notifications
      ${since !== undefined ? 'WHERE created_at >= $1' : ''} GROUP BY status`,
    since !== undefined ? [since] : [],
  );
  const of = (status: NoticeStatus): number => Number(rows.find((r) => r.status === status)?.n ?? 0);
  return {
    pending: of('pending'),
    retrying: of('retrying'),
    delivered: of('delivered'),
    failed: of('failed'),
  };
}
