/**
 * Why an accepted admission's notice did not arrive in the wait: still on its way (its message,
 * event or notice not finished), or finished without reaching the endpoint (no event, no
 * recipient, a failed notice). Only the second kind is a notice the engine lost; the first is a
 * backlog the wait was too short for. Read from the engine's own tables.
 */
import type { Queryable } from '../../store/db';

export interface MissingNotices {
  /** The message is not yet processed, or its event not yet attributed, or its notice not yet sent. */
  readonly inFlight: number;
  /** Processed, and then nothing: no event, no recipient, a failed notice or a failed message. */
  readonly dropped: number;
  /** How each was left, `message/outbox/notice` status, with counts. */
  readonly states: Readonly<Record<string, number>>;
}

interface StateRow {
  control_id: string;
  state: string;
}

/** Notice states on the way to the endpoint. */
const UNDELIVERED = new Set(['pending', 'retrying']);

/**
 * Reads how each admission whose notice had not arrived was left, as `message/event/notice` status.
 * @param db - the engine's database.
 * @param controlIds - MSH-10 of each such admission.
 */
export async function readMissingStates(
  db: Queryable,
  controlIds: readonly string[],
): Promise<Map<string, string>> {
  if (controlIds.length === 0) return new Map();
  const rows = await db.query<StateRow>(
    `SELECT c.control_id,
            concat_ws('/', coalesce(m.status, 'no-message'), coalesce(o.status, 'no-event'),
                      coalesce(n.status, 'no-notice')) AS state
       FROM unnest($1::text[]) AS c(control_id)
       LEFT JOIN messages m ON m.control_id = c.control_id
       LEFT JOIN outbox o ON o.message_id = m.id
       LEFT JOIN notifications n ON n.outbox_id = o.id AND n.channel = 'davinci'`,
    [controlIds],
  );
  return new Map(rows.map((r) => [r.control_id, r.state]));
}

/**
 * Counts the states of the notices still missing. Read the states before the final count of
 * arrivals: a notice the engine records as delivered had reached the receiver before its 200, so
 * one still missing after that is truly dropped, not merely later than the first count.
 * @param states - each missing admission's state, from readMissingStates.
 */
export function summarizeMissing(states: Iterable<string>): MissingNotices {
  let inFlight = 0;
  let dropped = 0;
  const counts: Record<string, number> = {};
  for (const state of states) {
    counts[state] = (counts[state] ?? 0) + 1;
    const [message, event, notice] = state.split('/');
    const moving =
      message === 'received' ||
      (message === 'processed' && event === 'pending') ||
      (event === 'notified' && UNDELIVERED.has(notice ?? ''));
    if (moving) inFlight++;
    else dropped++;
  }
  return { inFlight, dropped, states: counts };
}
