/**
 * Per-person order: a message is ordered on the patient keys of every record of its patient's
 * person, so the same person's messages from two hospitals are processed one at a time in
 * arrival order, by the processing stage's unchanged park-and-hand-over logic.
 */
import type { OrderKeyResolver } from '../pipeline/process-message';

/** A person with more records than this is ordered on its first ones only (a bound, not a rule). */
const MAX_KEYS = 64;

export const personOrderKeys: OrderKeyResolver = async (m, tx) => {
  const own = m.patientKey === null ? [] : [m.patientKey, ...m.otherPatientKeys];
  if (own.length === 0) return own;
  const rows = await tx.query<{ key: string }>(
    `SELECT DISTINCT k AS key
       FROM identity_records r1
       JOIN identity_records r2 ON r2.person_id = r1.person_id
       CROSS JOIN LATERAL unnest(r2.order_keys) AS k
      WHERE r1.order_keys && $1::text[]
      LIMIT $2`,
    [own, MAX_KEYS],
  );
  return [...new Set([...own, ...rows.map((r) => r.key)])];
};
