/**
 * The retention purge's SQL: one batch of old messages and what they alone produced, removed in
 * one transaction, so a long purge is many short transactions rather than one that holds locks
 * (and, on the embedded store, the only connection) for minutes.
 *
 * What goes, for messages received before the cutoff that are finished (not `received`, and no
 * outbox row or notice of theirs still pending or retrying):
 * - the message rows; their outbox rows, notices and delivery attempts;
 * - the FHIR versions they wrote that are no longer current;
 * - a resource of a patient's record (a type with a `patient` search parameter, other than
 *   Patient) whose every version came from purged messages, that no kept message of the same
 *   patient mapped unchanged (the store writes nothing then, so only the message's output shows
 *   it), and that no kept resource references: with its history and search index rows.
 * What stays, when unsure: Patients (identity links, decisions and reviews name them), shared
 * reference data (Practitioner, Organization, Location, ... that later messages name without
 * writing), anything the API wrote, and the current version of whatever is kept. Audit rows are
 * the access log and are never purged here.
 */
import type { Queryable } from './db';

/** Rows removed, by table. */
export interface RetentionCounts {
  readonly messages: number;
  /** `fhir_resource_history` rows. */
  readonly versions: number;
  /** `fhir_resources` rows (whole resources). */
  readonly resources: number;
  /** `fhir_search_index` rows of those resources. */
  readonly searchRows: number;
  readonly outbox: number;
  readonly notifications: number;
  /** `notification_attempts` rows. */
  readonly attempts: number;
  /** Resources whose current version came from a purged message but were kept (see above). */
  readonly keptResources: number;
}

export const NO_COUNTS: RetentionCounts = {
  messages: 0,
  versions: 0,
  resources: 0,
  searchRows: 0,
  outbox: 0,
  notifications: 0,
  attempts: 0,
  keptResources: 0,
};

/** Adds two tallies. */
export function addCounts(a: RetentionCounts, b: RetentionCounts): RetentionCounts {
  return {
    messages: a.messages + b.messages,
    versions: a.versions + b.versions,
    resources: a.resources + b.resources,
    searchRows: a.searchRows + b.searchRows,
    outbox: a.outbox + b.outbox,
    notifications: a.notifications + b.notifications,
    attempts: a.attempts + b.attempts,
    keptResources: a.keptResources + b.keptResources,
  };
}

export interface PurgeBatchOptions {
  /** Messages received before this go. */
  readonly cutoff: Date;
  readonly batchSize: number;
  /** Whether a whole resource of this type may be deleted (see the module comment). */
  readonly deletableType: (type: string) => boolean;
}

interface Candidate {
  readonly type: string;
  readonly id: string;
  /** The patient key of the purged message it came from; null keeps it. */
  readonly patientKey: string | null;
}

/** `Type/id`: how a candidate is named in sets and in `fhir_search_index.reference`. */
const refOf = (c: { readonly type: string; readonly id: string }): string => `${c.type}/${c.id}`;

/** How many reference hops a batch follows from a deleted resource to what it alone kept alive. */
const MAX_REFERENCE_ROUNDS = 4;

/** A history row's `message_id` naming an archived message that no longer exists. */
const gone = (col: string): string =>
  `(${col} ~ '^[0-9]{1,18}$' AND NOT EXISTS (SELECT 1 FROM messages k
     WHERE k.id = CASE WHEN ${col} ~ '^[0-9]{1,18}$' THEN ${col}::bigint END))`;

async function count(tx: Queryable, sql: string, params: unknown[]): Promise<number> {
  const [row] = await tx.query<{ n: number }>(
    `WITH d AS (${sql} RETURNING 1) SELECT count(*)::int AS n FROM d`,
    params,
  );
  return row?.n ?? 0;
}

/**
 * Purges one batch inside `tx`; returns what went (`messages` below `batchSize` means the
 * backlog is done). Rows another transaction holds (a replay resetting one) are skipped.
 */
export async function purgeBatch(tx: Queryable, o: PurgeBatchOptions): Promise<RetentionCounts> {
  const batch = await tx.query<{ id: string; patient_key: string | null }>(
    `SELECT m.id::text AS id, m.patient_key FROM messages m
      WHERE m.received_at < $1 AND m.status <> 'received'
        AND NOT EXISTS (
          SELECT 1 FROM outbox o WHERE o.message_id = m.id
             AND (o.status = 'pending' OR EXISTS (
               SELECT 1 FROM notifications n WHERE n.outbox_id = o.id AND n.status IN ('pending', 'retrying'))))
      ORDER BY m.received_at, m.id LIMIT $2
      FOR UPDATE OF m SKIP LOCKED`,
    [o.cutoff, o.batchSize],
  );
  if (batch.length === 0) return NO_COUNTS;
  const ids = batch.map((m) => m.id);
  const keyOf = new Map(batch.map((m) => [m.id, m.patient_key]));

  const doomed = await resourcesToDelete(tx, ids, keyOf, o.deletableType);
  const types = doomed.deleted.map((c) => c.type);
  const rids = doomed.deleted.map((c) => c.id);
  const resourceRows = `USING unnest($1::text[], $2::text[]) AS c(type, id) WHERE t.resource_type = c.type AND t.id = c.id`;
  const searchRows = await count(tx, `DELETE FROM fhir_search_index t ${resourceRows}`, [types, rids]);
  const wholeHistory = await count(tx, `DELETE FROM fhir_resource_history t ${resourceRows}`, [types, rids]);
  const resources = await count(tx, `DELETE FROM fhir_resources t ${resourceRows}`, [types, rids]);
  // Versions the batch wrote that something newer superseded; a current one stays with its resource.
  const superseded = await count(
    tx,
    `DELETE FROM fhir_resource_history h WHERE h.message_id = ANY($1::text[])
       AND NOT EXISTS (SELECT 1 FROM fhir_resources r
                        WHERE r.resource_type = h.resource_type AND r.id = h.id AND r.version_id = h.version_id)`,
    [ids],
  );
  const attempts = await count(
    tx,
    `DELETE FROM notification_attempts a USING notifications n, outbox o
      WHERE a.notification_id = n.id AND n.outbox_id = o.id AND o.message_id = ANY($1::bigint[])`,
    [ids],
  );
  const notifications = await count(
    tx,
    `DELETE FROM notifications n USING outbox o WHERE n.outbox_id = o.id AND o.message_id = ANY($1::bigint[])`,
    [ids],
  );
  const outbox = await count(tx, `DELETE FROM outbox WHERE message_id = ANY($1::bigint[])`, [ids]);
  const messages = await count(tx, `DELETE FROM messages WHERE id = ANY($1::bigint[])`, [ids]);
  return {
    messages,
    versions: wholeHistory + superseded,
    resources,
    searchRows,
    outbox,
    notifications,
    attempts,
    keptResources: doomed.kept,
  };
}

/**
 * The resources the batch alone kept alive: those it wrote the current version of or mapped
 * unchanged, then, round by round, those that only the deleted ones referenced.
 */
async function resourcesToDelete(
  tx: Queryable,
  ids: readonly string[],
  keyOf: ReadonlyMap<string, string | null>,
  deletableType: (type: string) => boolean,
): Promise<{ deleted: Candidate[]; kept: number }> {
  const written = await tx.query<{ type: string; id: string; message_id: string }>(
    `SELECT r.resource_type AS type, r.id, h.message_id FROM fhir_resource_history h
       JOIN fhir_resources r ON r.resource_type = h.resource_type AND r.id = h.id AND r.version_id = h.version_id
      WHERE h.message_id = ANY($1::text[])`,
    [ids],
  );
  // The store writes nothing for a resource mapped to what it already holds: only the output says.
  const touched = await tx.query<{ type: string; id: string; message_id: string }>(
    `SELECT e->>'type' AS type, e->>'id' AS id, m.id::text AS message_id FROM messages m
       CROSS JOIN LATERAL jsonb_array_elements(
         CASE WHEN jsonb_typeof(m.output->'stored'->'skipped') = 'array' THEN m.output->'stored'->'skipped' ELSE '[]'::jsonb END
         || CASE WHEN jsonb_typeof(m.output->'stored'->'repointed') = 'array' THEN m.output->'stored'->'repointed' ELSE '[]'::jsonb END) e
      WHERE m.id = ANY($1::bigint[]) AND e->>'type' IS NOT NULL AND e->>'id' IS NOT NULL`,
    [ids],
  );
  const seen = new Set<string>();
  let round: Candidate[] = [];
  let considered = 0;
  const consider = (type: string, id: string, patientKey: string | null): void => {
    const key = `${type}/${id}`;
    if (seen.has(key)) return;
    seen.add(key);
    // Whole resources are deleted only for types of one patient's record.
    if (!deletableType(type)) return;
    considered++;
    round.push({ type, id, patientKey });
  };
  for (const r of [...written, ...touched]) consider(r.type, r.id, keyOf.get(r.message_id) ?? null);

  let deleted: Candidate[] = [];
  for (let hop = 0; hop < MAX_REFERENCE_ROUNDS && round.length > 0; hop++) {
    const eligible = await untouchedElsewhere(tx, await onlyFromPurged(tx, round, ids), ids);
    // Earlier rounds' choices are decided again with this round's: one kept now can hold them.
    deleted = await unreferenced(tx, [...deleted, ...eligible]);
    const chosen = new Set(deleted.map(refOf));
    const fresh = eligible.filter((c) => chosen.has(refOf(c)));
    const targets = await tx.query<{ reference: string; type: string; id: string }>(
      `SELECT DISTINCT s.reference, s.resource_type AS type, s.id FROM fhir_search_index s
         JOIN unnest($1::text[], $2::text[]) AS c(type, id) ON s.resource_type = c.type AND s.id = c.id
        WHERE s.reference IS NOT NULL`,
      [fresh.map((c) => c.type), fresh.map((c) => c.id)],
    );
    const keyByRef = new Map(fresh.map((c) => [refOf(c), c.patientKey]));
    round = [];
    for (const t of targets) {
      const slash = t.reference.indexOf('/');
      if (slash <= 0) continue;
      const referrer = keyByRef.get(refOf(t)) ?? null;
      consider(t.reference.slice(0, slash), t.reference.slice(slash + 1), referrer);
    }
  }
  return { deleted, kept: considered - deleted.length };
}

/** Of `cs`, those whose every version (the current one included) came from purged messages. */
async function onlyFromPurged(
  tx: Queryable,
  cs: readonly Candidate[],
  ids: readonly string[],
): Promise<Candidate[]> {
  if (cs.length === 0) return [];
  const rows = await tx.query<{ type: string; id: string }>(
    `SELECT r.resource_type AS type, r.id
       FROM unnest($1::text[], $2::text[]) AS c(type, id)
       JOIN fhir_resources r ON r.resource_type = c.type AND r.id = c.id
       JOIN fhir_resource_history cur
         ON cur.resource_type = r.resource_type AND cur.id = r.id AND cur.version_id = r.version_id
      WHERE (cur.message_id = ANY($3::text[]) OR ${gone('cur.message_id')})
        AND NOT EXISTS (
          SELECT 1 FROM fhir_resource_history h
           WHERE h.resource_type = r.resource_type AND h.id = r.id
             AND NOT (h.message_id = ANY($3::text[])) AND NOT ${gone('h.message_id')})
      -- The writers' lock order (fhir-version-writer.ts lockCurrentMany), so neither deadlocks.
      ORDER BY r.resource_type, r.id
      FOR UPDATE OF r`,
    [cs.map((c) => c.type), cs.map((c) => c.id), ids],
  );
  const ok = new Set(rows.map(refOf));
  return cs.filter((c) => ok.has(refOf(c)));
}

/**
 * Of `cs`, those no kept message of the same patient mapped unchanged (or repointed). Looked up
 * by the patient's identifier (indexed), then the whole key; one without a patient key is kept.
 */
async function untouchedElsewhere(
  tx: Queryable,
  cs: readonly Candidate[],
  ids: readonly string[],
): Promise<Candidate[]> {
  if (cs.length === 0) return [];
  const rows = await tx.query<{ type: string; id: string }>(
    `SELECT c.type, c.id FROM unnest($1::text[], $2::text[], $3::text[]) AS c(type, id, pkey)
      WHERE c.pkey IS NULL OR EXISTS (
        SELECT 1 FROM messages k
         WHERE split_part(k.patient_key, '|', 2) = split_part(c.pkey, '|', 2) AND k.patient_key = c.pkey
           AND NOT (k.id = ANY($4::bigint[]))
           AND (k.output->'stored'->'skipped' @> jsonb_build_array(jsonb_build_object('type', c.type, 'id', c.id))
             OR k.output->'stored'->'repointed' @> jsonb_build_array(jsonb_build_object('type', c.type, 'id', c.id))))`,
    [cs.map((c) => c.type), cs.map((c) => c.id), cs.map((c) => c.patientKey), ids],
  );
  const touched = new Set(rows.map(refOf));
  return cs.filter((c) => !touched.has(refOf(c)));
}

/**
 * Of `cs`, those no resource outside the set references, repeated until stable (keeping one can
 * keep what it references). Only indexed references are seen, which is why shared reference
 * types are never candidates at all.
 */
async function unreferenced(tx: Queryable, cs: readonly Candidate[]): Promise<Candidate[]> {
  let set = [...cs];
  for (;;) {
    if (set.length === 0) return set;
    const refs = set.map(refOf);
    const rows = await tx.query<{ reference: string }>(
      `SELECT DISTINCT s.reference FROM fhir_search_index s
        WHERE s.reference = ANY($1::text[]) AND NOT ((s.resource_type || '/' || s.id) = ANY($1::text[]))`,
      [refs],
    );
    if (rows.length === 0) return set;
    const held = new Set(rows.map((r) => r.reference));
    set = set.filter((c) => !held.has(refOf(c)));
  }
}
