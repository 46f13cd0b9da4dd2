/**
 * Finding messages for the analyst console and admin API: by sender, type, status, control ID,
 * patient identifier or name, error group and time, newest first, with keyset paging that stays
 * fast on a large archive. The pool plans statements generically (db.ts), so every filter is
 * written as an equality or range an index of migration 013 answers whatever its value.
 */
import { nameSearchPrefix, prefixUpperBound } from '../hl7/patient-name';
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
  /**
   * A patient name prefix, `family` or `family, given`, case- and accent-insensitive
   * (hl7/patient-name.ts). Messages archived before migration 013 have no name and never match.
   */
  readonly name?: string;
  /** Received at or after. */
  readonly since?: Date;
  /** Received before (exclusive, so `since`/`until` ranges tile). */
  readonly until?: Date;
  /** An error group's key (store/error-key.ts, `GET /api/errors`): failed messages of one cause. */
  readonly errorKey?: string;
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
  /** `MSH-4|PID-3.1`. */
  readonly patientKey: string | null;
  /** `Family, Given` from PID-5; null when it had none or was archived before names were kept. */
  readonly patientName: string | null;
}

export interface MessagePage {
  readonly messages: readonly MessageSummary[];
  /** The `before` of the next page; absent on the last page, so paging never ends on an empty one. */
  readonly nextBefore?: string;
}

/** A filter as SQL, for a statement that pages newest first: `ORDER BY <order> DESC`. */
export interface MessageConditions {
  /** To be joined by AND; empty for no filter. */
  readonly conditions: readonly string[];
  /** `$1..$n` of the conditions; a statement adds its own after them. */
  readonly params: readonly unknown[];
  /** What to order by: the id, or an expression of it that steers the plan (see the name filter). */
  readonly order: string;
}

/**
 * The conditions of a filter (every field but `count`), after `fixed` ones of the caller's: what
 * every paged read of the archive (the message list, error groups, dry-run samples) filters by.
 */
export function messageConditions(
  f: Omit<MessageFilter, 'count'>,
  fixed: readonly string[] = [],
): MessageConditions {
  const where = [...fixed];
  const params: unknown[] = [];
  const add = (clause: string, value: unknown): void => {
    params.push(value);
    where.push(clause.replaceAll('?', `$${params.length}`));
  };
  if (f.sender !== undefined) {
    if (f.sender.includes('^')) {
      add('sender = ?', f.sender);
      // Implied by the sender when it has one `^` (MSH-3.1^MSH-4.1): said outright, so the
      // facility + status + time index serves this form too.
      const [app, facility, ...more] = f.sender.split('^');
      if (app !== undefined && facility !== undefined && facility !== '' && more.length === 0) {
        add('sending_facility = ?', facility);
      }
    } else add('sending_facility = ?', f.sender);
  }
  if (f.type !== undefined) {
    const [type, event] = f.type.split('^');
    add('message_type = ?', type);
    if (event !== undefined && event !== '') add('trigger_event = ?', event);
  }
  if (f.status !== undefined) add('status = ?', f.status);
  if (f.controlId !== undefined) add('control_id = ?', f.controlId);
  if (f.patient !== undefined) {
    const [facility, id, ...more] = f.patient.split('|');
    if (id === undefined) add("split_part(patient_key, '|', 2) = ?", f.patient);
    else {
      add('patient_key = ?', f.patient);
      // Implied when the key has one `|`: lets the identifier's index answer `FAC|id` too.
      if (facility !== undefined && more.length === 0) add("split_part(patient_key, '|', 2) = ?", id);
    }
  }
  // A name prefix is rare (a surname is well under 1% of an archive), but a generic plan guesses a
  // range at 0.5% and would walk the primary key newest first, filtering, through most of the
  // table. Ordering by an expression of the id takes that path away: the name index, then a sort.
  let order = 'messages.id';
  if (f.name !== undefined) {
    order = '(messages.id + 0)';
    const prefix = nameSearchPrefix(f.name);
    if (prefix === undefined) where.push('false');
    else {
      // A range, not LIKE: a generic plan cannot turn `LIKE $1` into an index range.
      add('patient_name_key >= ?', prefix);
      const upper = prefixUpperBound(prefix);
      if (upper !== '') add('patient_name_key < ?', upper);
    }
  }
  if (f.errorKey !== undefined) add('error_key = ?', f.errorKey);
  if (f.since !== undefined) add('received_at >= ?', f.since);
  if (f.until !== undefined) add('received_at < ?', f.until);
  if (f.before !== undefined) add('id < ?::bigint', f.before);
  return { conditions: where, params, order };
}

/** `WHERE ...` of the conditions, or nothing. */
export function whereClause(c: MessageConditions): string {
  return c.conditions.length > 0 ? `WHERE ${c.conditions.join(' AND ')}` : '';
}

/** Lists up to `count` messages matching every given filter, newest (highest id) first. */
export async function findMessages(db: Queryable, f: MessageFilter): Promise<MessagePage> {
  const c = messageConditions(f);
  // One row more than asked for tells whether another page exists without a second query.
  const params = [...c.params, f.count + 1];
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
    patient_key: string | null;
    patient_name: string | null;
  }>(
    `SELECT id::text AS id, sender, control_id, message_type, trigger_event, version, status, received_at,
            processing_ms, duplicates, error->>'code' AS error_code, patient_key, patient_name
       FROM messages ${whereClause(c)}
      ORDER BY ${c.order} DESC LIMIT $${params.length}`,
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
    patientKey: r.patient_key,
    patientName: r.patient_name,
  }));
  const last = messages.at(-1);
  return { messages, ...(more && last !== undefined ? { nextBefore: last.id } : {}) };
}
