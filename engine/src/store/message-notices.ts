/**
 * The notifications one archived message caused: its outbox events (migration 005) and, for each,
 * the notices sent to each recipient (migration 008), for the message view.
 */
import type { Queryable } from './db';
import type { NoticeChannel, NoticeStatus } from './notification-store';

export interface MessageNotice {
  readonly id: string;
  /** The event kind: `admit`, `discharge`, `critical-result` ... */
  readonly event: string;
  readonly channel: NoticeChannel;
  readonly status: NoticeStatus;
  /** `Endpoint/<id>`, `Subscription/<id>` or the inbox's Practitioner. */
  readonly target: string;
  readonly attempts: number;
  readonly lastError?: string;
  readonly deliveredAt?: string;
}

/** Notices of the message's events, oldest first (both tables are indexed on the join). */
export async function listMessageNotices(db: Queryable, messageId: string): Promise<MessageNotice[]> {
  const rows = await db.query<{
    id: string;
    kind: string;
    channel: NoticeChannel;
    status: NoticeStatus;
    target: string;
    attempts: number;
    last_error: string | null;
    delivered_at: Date | string | null;
  }>(
    `SELECT n.id::text AS id, n.kind, n.channel, n.status, n.target, n.attempts, n.last_error, n.delivered_at
       FROM outbox o JOIN notifications n ON n.outbox_id = o.id
      WHERE o.message_id = $1
      ORDER BY n.id`,
    [messageId],
  );
  return rows.map((r) => ({
    id: r.id,
    event: r.kind,
    channel: r.channel,
    status: r.status,
    target: r.target,
    attempts: r.attempts,
    ...(r.last_error !== null ? { lastError: r.last_error } : {}),
    ...(r.delivered_at !== null ? { deliveredAt: new Date(r.delivered_at).toISOString() } : {}),
  }));
}
