/**
 * Repairs what linking missed:
 * - a stored Patient with no identity record (stored before identity existed, or by a path that
 *   skipped it) is linked, so no record stays unlinked;
 * - a record that founded its person is decided once more after it committed: two matching
 *   records that arrive at the same moment from two facilities are linked in two transactions,
 *   neither seeing the other, and would otherwise both stay founders until one changed.
 */
import type { Db } from '../store/db';
import type { JsonObject } from '../store/fhir-json';
import type { Logger } from '../observability/logger';
import { startPeriodicSweep } from '../pipeline/periodic-sweep';
import { linkPatient, type IdentityRules } from './link-patient';
import { holdRelinkShared } from './relink-lock';

/** Links up to `limit` unlinked Patients, one transaction each; returns how many. */
export async function linkUnlinked(db: Db, rules: IdentityRules, limit = 200): Promise<number> {
  const rows = await db.query<{ id: string }>(
    `SELECT p.id FROM fhir_resources p
      WHERE p.resource_type = 'Patient' AND NOT p.deleted
        AND NOT EXISTS (SELECT 1 FROM identity_records r WHERE r.patient_id = p.id)
      ORDER BY p.last_updated LIMIT $1`,
    [limit],
  );
  let linked = 0;
  for (const { id } of rows) {
    const done = await db.transaction(async (tx) => {
      const [row] = await tx.query<{ resource: JsonObject }>(
        `SELECT resource FROM fhir_resources WHERE resource_type = 'Patient' AND id = $1 AND NOT deleted FOR UPDATE`,
        [id],
      );
      if (row === undefined) return false;
      await holdRelinkShared(tx);
      await linkPatient(tx, { ...row.resource, id }, rules, { orderKeys: [] });
      return true;
    });
    if (done) linked++;
  }
  return linked;
}

/**
 * Decides again every record that founded its person with `linked_at` in [since, until) (the
 * transaction's start time); returns how many then joined another person.
 */
export async function recheckFounders(
  db: Db,
  rules: IdentityRules,
  since: Date,
  until: Date,
): Promise<number> {
  const rows = await db.query<{ patient_id: string }>(
    `SELECT patient_id FROM identity_records
      WHERE reason = 'founder' AND active AND linked_at >= $1 AND linked_at < $2 ORDER BY linked_at`,
    [since, until],
  );
  let joined = 0;
  for (const { patient_id: id } of rows) {
    const action = await db.transaction(async (tx) => {
      const [row] = await tx.query<{ resource: JsonObject }>(
        `SELECT resource FROM fhir_resources WHERE resource_type = 'Patient' AND id = $1 AND NOT deleted FOR UPDATE`,
        [id],
      );
      if (row === undefined) return 'gone';
      await holdRelinkShared(tx);
      return (await linkPatient(tx, { ...row.resource, id }, rules, { orderKeys: [], recheck: true })).action;
    });
    if (action === 'joined') joined++;
  }
  return joined;
}

/**
 * How long after its transaction began a founder is looked at again: longer than any processing
 * transaction runs (statement and lock bounds), so the record it might have missed has committed.
 */
const RECHECK_LAG_MS = 60_000;

export function startLinkSweep(db: Db, rules: IdentityRules, logger: Logger, intervalMs: number): () => void {
  // At start, look back over what a previous run may not have rechecked.
  let since = new Date(Date.now() - 10 * RECHECK_LAG_MS);
  return startPeriodicSweep({
    name: 'identity sweep',
    intervalMs,
    logger,
    run: async () => {
      const linked = await linkUnlinked(db, rules);
      const until = new Date(Date.now() - RECHECK_LAG_MS);
      const joined = await recheckFounders(db, rules, since, until);
      since = until;
      return linked + joined;
    },
    report: (done) => logger.info({ done }, 'identity sweep linked unlinked patients or rejoined founders'),
  });
}
