/**
 * Per-message linking as the identity bench times it: each held-out record is stored and linked
 * in its own transaction, as the pipeline does, and only the `linkPatient` call is timed.
 */
import { identityRules, linkPatient } from '../../identity/link-patient';
import { loadConfig } from '../../config/schema';
import type { Db, Queryable } from '../../store/db';
import { contentHash, type JsonObject } from '../../store/fhir-json';
import type { SyntheticRecord } from './identity-population';

/** Links run before timing starts: enough to touch every connection of the pool (10). */
export const WARM_UP_LINKS = 100;

/** Stores the records' Patients as the store would, 2,000 a statement. */
export async function insertPatients(db: Queryable, records: readonly SyntheticRecord[]): Promise<void> {
  const now = new Date().toISOString();
  for (let i = 0; i < records.length; i += 2_000) {
    const page = records.slice(i, i + 2_000);
    await db.query(
      `INSERT INTO fhir_resources (resource_type, id, version_id, last_updated, event_time, deleted, content_hash, resource)
       SELECT 'Patient', t.id, 1, $3, $3, false, t.hash, t.body::jsonb FROM unnest($1::text[], $2::text[], $4::text[]) AS t(id, body, hash)`,
      [
        page.map((r) => r.patient['id'] as string),
        page.map((r) => JSON.stringify(r.patient)),
        now,
        page.map((r) => contentHash(r.patient as JsonObject)),
      ],
    );
  }
}

/** Milliseconds of each `linkPatient` call after the warm-up, in record order. */
export async function linkOneByOne(db: Db, records: readonly SyntheticRecord[]): Promise<number[]> {
  const rules = identityRules(loadConfig(process.env).identity);
  const times: number[] = [];
  for (const [i, r] of records.entries()) {
    await db.transaction(async (tx) => {
      await insertPatients(tx, [r]);
      const t = performance.now();
      await linkPatient(tx, r.patient, rules, { orderKeys: [] });
      // The first links on each pooled connection prepare its statements, which a running worker
      // did once at start: they are not a message's latency.
      if (i >= WARM_UP_LINKS) times.push(performance.now() - t);
    });
  }
  return times;
}
