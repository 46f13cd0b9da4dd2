/**
 * Per-person order: a message is ordered on the patient keys of every record of its patient's
 * person, so the same person's messages from two hospitals are processed one at a time in
 * arrival order, by the processing stage's unchanged park-and-hand-over logic.
 */
import type { OrderKeyResolver } from '../pipeline/process-message';
import { RELINK_LOCK } from './relink-lock';

/** A person with more records than this is ordered on its first ones only (a bound, not a rule). */
const MAX_KEYS = 64;

export const personOrderKeys: OrderKeyResolver = async (m, tx) => {
  const own = m.patientKey === null ? [] : [m.patientKey, ...m.otherPatientKeys];
  if (own.length === 0) return own;
  // The relink lock is taken here, shared, by the transaction's first identity statement, so
  // every later statement of this message's linking reads after any relink that was running.
  const rows = await tx.query<{ key: string }>(
    `SELECT DISTINCT k AS key
       FROM (SELECT 1 AS go FROM pg_advisory_xact_lock_shared($3::bigint)) l
       CROSS JOIN LATERAL (
         SELECT r2.order_keys FROM identity_records r1
           JOIN identity_records r2 ON r2.person_id = r1.person_id
          WHERE r1.order_keys && $1::text[] AND l.go = 1) p
       CROSS JOIN LATERAL unnest(p.order_keys) AS k
      LIMIT $2`,
    [own, MAX_KEYS, RELINK_LOCK],
    { prepared: true },
  );
  return [...new Set([...own, ...rows.map((r) => r.key)])];
};
