/**
 * Failed messages grouped by cause (`error_key`, store/error-key.ts) for the errors view: one
 * line per cause with its count, senders, first and last time and a few message ids, so an
 * analyst fixes a rule once and replays the group. Read from the partial `error_key` index.
 */
import type { Queryable } from './db';
import { failureCause } from './error-key';
import { messageConditions } from './message-query';

export interface ErrorGroupFilter {
  /** MSH-4, or `MSH-3^MSH-4`. */
  readonly sender?: string;
  /** Received at or after. */
  readonly since?: Date;
  /** Received before. */
  readonly until?: Date;
  /** @defaultValue 500 */
  readonly limit?: number;
}

export interface ErrorGroup {
  /** Usable as `errorKey` in the message list and a replay filter. */
  readonly key: string;
  readonly code: string;
  /** The diagnostics without values (the newest message's). */
  readonly message: string;
  readonly expression?: readonly string[];
  readonly rule?: string;
  readonly count: number;
  readonly senders: readonly string[];
  readonly firstAt: string;
  readonly lastAt: string;
  /** Up to SAMPLE_IDS ids, newest first. */
  readonly sampleIds: readonly string[];
}

export const SAMPLE_IDS = 5;
/** Senders listed per group: a cause seen from more is rare, and the list is for reading. */
const MAX_SENDERS = 20;

/** Groups, largest first (then the most recent). */
export async function groupFailedMessages(db: Queryable, f: ErrorGroupFilter): Promise<ErrorGroup[]> {
  // The message list's filters (store/message-query.ts), so a group's count is what its list shows.
  const c = messageConditions(f, [`status = 'failed'`, 'error_key IS NOT NULL']);
  const params = [...c.params, f.limit ?? 500];
  const filter = c.conditions.join(' AND ');
  // Samples come from the (error_key, id) index, newest first, under the same filter.
  const rows = await db.query<{
    error_key: string;
    count: number;
    first_at: Date | string;
    last_at: Date | string;
    senders: string[];
    error: unknown;
    sample_ids: string[];
  }>(
    `WITH groups AS (
       SELECT error_key, count(*)::int AS count, min(received_at) AS first_at, max(received_at) AS last_at,
              array_agg(DISTINCT sender) AS senders, max(id) AS last_id
         FROM messages WHERE ${filter}
        GROUP BY error_key
        ORDER BY count(*) DESC, max(id) DESC
        LIMIT $${params.length}
     )
     SELECT g.error_key, g.count, g.first_at, g.last_at, g.senders, g.last_id,
            (SELECT error FROM messages WHERE id = g.last_id) AS error,
            ARRAY(SELECT id::text FROM messages
                   WHERE error_key = g.error_key AND ${filter}
                   ORDER BY messages.id DESC LIMIT ${SAMPLE_IDS}) AS sample_ids
       FROM groups g
      ORDER BY g.count DESC, g.last_id DESC`,
    params,
  );
  return rows.map((r) => {
    const cause = failureCause(r.error);
    return {
      key: r.error_key,
      code: cause?.code ?? 'unknown',
      message: cause?.message ?? '',
      ...(cause?.location !== undefined ? { expression: [cause.location] } : {}),
      ...(cause?.rule !== undefined ? { rule: cause.rule } : {}),
      count: r.count,
      senders: [...r.senders].sort().slice(0, MAX_SENDERS),
      firstAt: new Date(r.first_at).toISOString(),
      lastAt: new Date(r.last_at).toISOString(),
      sampleIds: r.sample_ids,
    };
  });
}
