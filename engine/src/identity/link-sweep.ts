/**
 * Repairs what linking missed: a stored Patient with no identity record (stored before identity
 * existed, or by a path that skipped it) is linked by this sweep, so no record stays unlinked.
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

export function startLinkSweep(db: Db, rules: IdentityRules, logger: Logger, intervalMs: number): () => void {
  return startPeriodicSweep({
    name: 'identity sweep',
    intervalMs,
    logger,
    run: () => linkUnlinked(db, rules),
    report: (linked) => logger.info({ linked }, 'identity sweep linked unlinked patients'),
  });
}
