/**
 * Finding messages for the analyst console and admin API: by sender, type, status, control ID,
 * patient and time, newest first, with keyset paging that stays fast on a large archive.
 */
import type { Queryable } from './db';
import type { MessageStatus } from './message-archive';

export interface MessageFilter {
  /** `MSH-3^MSH-4`, or MSH-4 alone. */
  readonly sender?: string;
  /** `ADT`, or `ADT^A01`. */
  readonly type?: string;
  readonly status?: MessageStatus;
  readonly controlId?: string;
  /** A patient identifier (PID-3.1), optionally prefixed with the facility: `FAC|123`. */
  readonly patient?: string;
  readonly since?: Date;
  /** Return rows with id below this (keyset paging): the previous page's `nextBefore`. */
  readonly before?: string;
  readonly count: number;
}

export interface MessageSummary {
  readonly id: string;
  readonly sender: string;
  readonly controlId: string | null;
  readonly type: string | null;
  readonly version: string | null;
  readonly status: MessageStatus;
  readonly receivedAt: string;
  readonly processingMs: number | null;
  readonly duplicates: number;
  readonly errorCode: string | null;
}

export interface MessagePage {
  readonly messages: readonly MessageSummary[];
  /** The `before` of the next page; absent on the last page, so paging never ends on an empty one. */
  readonly nextBefore?: string;
}

/** Lists up to `count` messages matching every given filter, newest (highest id) first. */
export async function findMessages(db: Queryable, f: MessageFilter): Promise<MessagePage> {
  const where: string[] = [];
  const params: unknown[] = [];
  const add = (clause: string, value: unknown): void => {
    params.push(value);
    where.push(clause.replaceAll('?', `$${params.length}`));
  };
  if (f.sender !== undefined) {
    if (f.sender.includes('^')) add('sender = ?', f.sender);
    else add('sending_facility = ?', f.sender);
  }
  if (f.type !== undefined) {
    const [type, event] = f.type.split('^');
    add('message_type = ?', type);
    if (event !== undefined && event !== '') add('trigger_event = ?', event);
  }
  if (f.status !== undefined) add('status = ?', f.status);
  if (f.controlId !== undefined) add('control_id = ?', f.controlId);
  if (f.patient !== undefined) {
    if (f.patient.includes('|')) add('patient_key = ?', f.patient);
    else add("split_part(patient_key, '|', 2) = ?", f.patient);
  }
  if (f.since !== undefined) add('received_at >= ?', f.since);
  if (f.before !== undefined) add('id < ?::bigint', f.before);
  // One row more than asked for tells whether another page exists without a second query.
  params.push(f.count + 1);
  // ORDER BY `messages.id`, the bigint: a bare `id` there means the text alias, which sorts 9 after
  // 89 and makes the `id <` cursor skip some rows and repeat others.
  const rows = await db.query<{
    id: string;
    sender: string;
    control_id: string | null;
    message_type: string | null;
    trigger_event: string | null;
    version: string | null;
    status: MessageStatus;
    received_at: Date | string;
    processing_ms: number | null;
    duplicates: number;
    error_code: string | null;
  }>(
    `SELECT id::text AS id, sender, control_id, message_type, trigger_event, version, status, received_at,
            processing_ms, duplicates, error->>'code' AS error_code
       FROM messages ${where.length > 0 ? `WHERE ${where.join(' AND ')}` : ''}
      ORDER BY messages.id DESC LIMIT $${params.length}`,
    params,
  );
  const more = rows.length > f.count;
  const messages = rows.slice(0, f.count).map((r) => ({
    id: r.id,
    sender: r.sender,
    controlId: r.control_id,
    type: r.message_type === null ? null : [r.message_type, r.trigger_event].filter(Boolean).join('^'),
    version: r.version,
    status: r.status,
    receivedAt: new Date(r.received_at).toISOString(),
    processingMs: r.processing_ms,
    duplicates: r.duplicates,
    errorCode: r.error_code,
  }));
  const last = messages.at(-1);
  return { messages, ...(more && last !== undefined ? { nextBefore: last.id } : {}) };
}
