/**
 * The identity tables, read and written inside the caller's transaction. Knows rows, not rules:
 * what a record's person should be is decided in link-decision.ts.
 */
import { hashResourceId } from '../mapping/resource-id';
import type { Queryable } from '../store/db';
import { contentHash, type JsonObject } from '../store/fhir-json';
import type { Demographics } from './demographics';
import type { LinkedRecord, LinkReason } from './link-decision';
import type { NameFrequencies } from './match-model';
import { orderedPair, type ReviewWrite } from './review-store';

/** A record as stored, with where it is linked. */
export interface IdentityRecord extends LinkedRecord {
  readonly assurance: 'level3' | 'level4';
  readonly demographicsHash: string;
  readonly orderKeys: readonly string[];
}

interface RecordRow {
  patient_id: string;
  person_id: string;
  reason: LinkReason;
  assurance: 'level3' | 'level4';
  demographics: Demographics;
  demographics_hash: string;
  order_keys: string[];
  hit?: boolean;
}

const RECORD_COLUMNS = `patient_id, person_id, reason, assurance, demographics, demographics_hash, order_keys`;

function toRecord(r: RecordRow): IdentityRecord {
  return {
    demographics: readDemographics(r.demographics),
    personId: r.person_id,
    reason: r.reason,
    assurance: r.assurance,
    demographicsHash: r.demographics_hash,
    orderKeys: r.order_keys,
    ...(r.hit === undefined ? {} : { blockHit: r.hit }),
  };
}

const HASHES = new WeakMap<Demographics, string>();

/** The demographics' content hash, computed once per object (linking asks for it several times). */
export function demographicsHash(d: Demographics): string {
  let h = HASHES.get(d);
  if (h === undefined) {
    h = contentHash(d as unknown as JsonObject);
    HASHES.set(d, h);
  }
  return h;
}

/**
 * A candidate's demographics as read: in full for a record that shares a blocking key (it is
 * scored), only what the rules read for the other records of its person (not scored), which
 * halves what every message reads and parses.
 */
function readDemographics(raw: Demographics): Demographics {
  if (Array.isArray(raw.given)) return raw;
  const slim = raw as unknown as {
    patientId: string;
    active: boolean;
    facility: string | null;
    mrn: string | null;
  };
  return {
    patientId: slim.patientId,
    active: slim.active,
    facility: slim.facility ?? undefined,
    mrn: slim.mrn ?? undefined,
    identifiers: [],
    given: [],
    families: [],
    familyParts: [],
    givenPhonetic: [],
    familyPhonetic: [],
    birthDate: undefined,
    sex: undefined,
    street: undefined,
    postal: undefined,
    phones: [],
    email: undefined,
    ssn: undefined,
  };
}

/** The record of `patientId`, row-locked when `lock` (its writer holds it until commit). */
export async function readRecord(
  tx: Queryable,
  patientId: string,
  lock = false,
): Promise<IdentityRecord | undefined> {
  const [row] = await tx.query<RecordRow>(
    `SELECT ${RECORD_COLUMNS} FROM identity_records WHERE patient_id = $1${lock ? ' FOR UPDATE' : ''}`,
    [patientId],
    { prepared: true },
  );
  return row === undefined ? undefined : toRecord(row);
}

/** Every record of `personId`. */
export async function personMembers(tx: Queryable, personId: string): Promise<IdentityRecord[]> {
  const rows = await tx.query<RecordRow>(
    `SELECT ${RECORD_COLUMNS} FROM identity_records WHERE person_id = $1 ORDER BY patient_id`,
    [personId],
  );
  return rows.map(toRecord);
}

/**
 * Block rows read per candidate person allowed. The block lookup is its own MATERIALIZED step
 * because sessions plan generically (plan_cache_mode): `SELECT DISTINCT person_id ... WHERE
 * block_keys && $1 LIMIT $2` was planned as a walk of the person index filtering every row (99 ms
 * at 200,000 records, where the GIN lookup takes 0.2 ms). Reading at most this many rows per
 * allowed person keeps the bound on a key shared by thousands.
 */
const BLOCK_ROWS_PER_PERSON = 4;

/**
 * Records sharing a blocking key with `keys`, and every other record of their persons (a
 * person is judged by all its records, not only those in the block), plus the records of
 * `alsoPerson` (the record's own person). Bounded: a key shared by thousands (a clinic's phone)
 * yields the records of at most `limit` persons.
 */
export async function candidatesFor(
  tx: Queryable,
  keys: readonly string[],
  alsoPerson?: string,
  limit = 500,
): Promise<IdentityRecord[]> {
  if (keys.length === 0 && alsoPerson === undefined) return [];
  const rows = await tx.query<RecordRow>(
    `WITH blocked AS MATERIALIZED (
       SELECT person_id FROM identity_records WHERE block_keys && $1::text[] LIMIT $2 * ${BLOCK_ROWS_PER_PERSON}),
     hit AS (SELECT DISTINCT person_id FROM blocked LIMIT $2)
     SELECT ${RECORD_COLUMNS}, block_keys && $1::text[] AS hit FROM identity_records
      WHERE person_id IN (SELECT person_id FROM hit UNION ALL SELECT $3::text WHERE $3::text IS NOT NULL)`,
    [keys, limit, alsoPerson ?? null],
  );
  return rows.map(toRecord);
}

/** What linking one record reads before deciding, in one round trip. */
export interface LinkState {
  readonly previous: IdentityRecord | undefined;
  readonly separated: ReadonlySet<string>;
  readonly frequencies: NameFrequencies;
  /**
   * Records sharing a blocking key, with the rest of their persons and of the record's own
   * person (see `candidatesFor`); empty when the stored demographics are the same.
   */
  readonly candidates: readonly IdentityRecord[];
  /** True when `freshPersonId` names no person yet, so a new person can take it. */
  readonly freshPersonIdFree: boolean;
}

/**
 * Everything linking reads, in one statement: the relink lock shared (re-entrant; a caller that
 * may run during a relink takes it in an earlier statement, so this one's snapshot follows the
 * relink), the record row-locked, its analysts' separations, its names' frequencies, and its
 * candidates unless its demographics are unchanged.
 */
export async function readLinkState(
  tx: Queryable,
  d: Demographics,
  q: {
    /** Read the candidates even when the demographics are unchanged. */
    readonly recheck?: boolean;
    readonly relinkLock: number;
    readonly blockKeys: readonly string[];
    readonly freshPersonId: string;
    readonly limit?: number;
  },
): Promise<LinkState> {
  type Row = RecordRow & {
    part: 'c' | 'm' | 's';
    separated: string[] | null;
    total: number | null;
    given_n: number | null;
    family_n: number | null;
    taken: boolean | null;
  };
  // One row shape for all three parts (typed columns, not JSON): candidates, the record, state.
  const none = `NULL::text[] AS separated, NULL::int AS total, NULL::int AS given_n, NULL::int AS family_n,
                NULL::bool AS taken`;
  const rows = await tx.query<Row>(
    `WITH l AS MATERIALIZED (SELECT 1 AS go FROM pg_advisory_xact_lock_shared($2::bigint)),
     me AS MATERIALIZED (
       SELECT r.* FROM l CROSS JOIN LATERAL (
         SELECT ${RECORD_COLUMNS} FROM identity_records WHERE patient_id = $1 AND l.go = 1 FOR UPDATE) r),
     blocked AS MATERIALIZED (
       SELECT person_id FROM identity_records
        WHERE block_keys && $3::text[] AND ($9::bool OR NOT EXISTS (SELECT 1 FROM me WHERE me.demographics_hash = $5))
        LIMIT $4 * ${BLOCK_ROWS_PER_PERSON}),
     hit AS (SELECT DISTINCT person_id FROM blocked LIMIT $4)
     SELECT 'c' AS part, patient_id, person_id, reason, assurance,
            CASE WHEN block_keys && $3::text[] OR person_id IN (SELECT person_id FROM me) THEN demographics
                 ELSE jsonb_build_object('patientId', patient_id, 'active', active,
                                         'facility', demographics->'facility', 'mrn', demographics->'mrn') END AS demographics,
            demographics_hash, order_keys, block_keys && $3::text[] AS hit, ${none}
       FROM identity_records
      WHERE person_id IN (SELECT person_id FROM hit UNION ALL SELECT person_id FROM me WHERE me.demographics_hash <> $5 OR $9::bool)
     UNION ALL
     SELECT 'm', ${RECORD_COLUMNS}, NULL, ${none} FROM me
     UNION ALL
     SELECT 's', NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
       ARRAY(SELECT CASE WHEN d.patient_a = $1 THEN d.patient_b ELSE d.patient_a END FROM identity_decisions d
              WHERE (d.patient_a = $1 OR d.patient_b = $1) AND d.decision = 'separate'
                AND NOT EXISTS (SELECT 1 FROM identity_decisions e
                                 WHERE e.patient_a = d.patient_a AND e.patient_b = d.patient_b AND e.id > d.id)),
       (SELECT GREATEST(reltuples, 0)::int FROM pg_class WHERE oid = 'identity_records'::regclass),
       (SELECT n FROM identity_name_counts WHERE kind = 'given' AND value = $6),
       (SELECT n FROM identity_name_counts WHERE kind = 'family' AND value = $7),
       EXISTS (SELECT 1 FROM identity_persons WHERE id = $8)`,
    [
      d.patientId,
      q.relinkLock,
      q.blockKeys,
      q.limit ?? 500,
      demographicsHash(d),
      d.given[0] ?? '',
      d.families[0] ?? '',
      q.freshPersonId,
      q.recheck === true,
    ],
    { prepared: true },
  );
  const me = rows.find((r) => r.part === 'm');
  const state = rows.find((r) => r.part === 's');
  const given = d.given[0];
  const family = d.families[0];
  return {
    previous: me === undefined ? undefined : toRecord(me),
    separated: new Set(state?.separated ?? []),
    frequencies: {
      total: state?.total ?? 0,
      count: (kind, value) =>
        (kind === 'given' && value === given
          ? state?.given_n
          : kind === 'family' && value === family
            ? state?.family_n
            : 0) ?? 0,
    },
    candidates: rows.filter((r) => r.part === 'c').map(toRecord),
    freshPersonIdFree: state?.taken !== true,
  };
}

/** The person of `patientId` when its record exists and already holds `orderKeys`. */
export async function linkedWithKeys(
  tx: Queryable,
  patientId: string,
  orderKeys: readonly string[],
): Promise<string | undefined> {
  const [row] = await tx.query<{ person_id: string }>(
    `SELECT person_id FROM identity_records WHERE patient_id = $1 AND order_keys @> $2::text[]`,
    [patientId, orderKeys],
    { prepared: true },
  );
  return row?.person_id;
}

/** Records that another message's patient keys reach this record too. */
export async function addOrderKeys(
  tx: Queryable,
  patientId: string,
  orderKeys: readonly string[],
): Promise<void> {
  await tx.query(`UPDATE identity_records SET order_keys = $2 WHERE patient_id = $1`, [patientId, orderKeys]);
}

/** One link decision's writes. */
export interface LinkWrite {
  readonly record: RecordWrite;
  readonly previous: IdentityRecord | undefined;
  /** Live persons the record joins or stays in; each gets a new version. */
  readonly bump: readonly string[];
  /** A new person to create first (the record founds it). */
  readonly createPerson?: string;
  /** The person the record leaves: bumped, or retired (naming `mergedInto`) when now empty. */
  readonly leave?: { readonly personId: string; readonly mergedInto?: string };
  readonly reviews: readonly ReviewWrite[];
}

/**
 * Writes a link decision in one statement: the new person, the record, the name counts, the
 * versions of the persons it touches, and its reviews. Returns how many of `bump` were live:
 * fewer means one was retired meanwhile, and the caller must not commit.
 */
export async function writeLink(tx: Queryable, w: LinkWrite): Promise<number> {
  const d = w.record.demographics;
  const [kinds, values, deltas] = nameDeltas(w.previous?.demographics, d);
  const reviews = [...new Map(w.reviews.map((r) => [orderedPair(r.a, r.b).join('|'), r])).values()];
  const [row] = await tx.query<{ bumped: string }>(
    `WITH person AS (
       INSERT INTO identity_persons (id) SELECT $18::text WHERE $18::text IS NOT NULL RETURNING id),
     up AS (
       INSERT INTO identity_records (patient_id, person_id, reason, assurance, evidence_patient, evidence_weight,
          active, demographics, demographics_hash, given_key, family_key, block_keys, order_keys)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)
       ON CONFLICT (patient_id) DO UPDATE SET person_id = $2, reason = $3, assurance = $4, evidence_patient = $5,
          evidence_weight = $6, active = $7, demographics = $8, demographics_hash = $9, given_key = $10,
          family_key = $11, block_keys = $12, order_keys = $13, linked_at = now()
       RETURNING 1),
     bumped AS (
       UPDATE identity_persons SET version_id = version_id + 1, updated_at = now()
        WHERE id = ANY($14::text[]) AND active RETURNING 1),
     left_person AS (
       UPDATE identity_persons p SET version_id = version_id + 1, updated_at = now(),
          active = EXISTS (SELECT 1 FROM identity_records r WHERE r.person_id = p.id AND r.patient_id <> $1),
          merged_into = CASE WHEN EXISTS (SELECT 1 FROM identity_records r WHERE r.person_id = p.id AND r.patient_id <> $1)
                             THEN p.merged_into ELSE $20::text END
        WHERE p.id = $19::text RETURNING 1),
     counted AS (
       INSERT INTO identity_name_counts (kind, value, n)
       SELECT * FROM unnest($15::text[], $16::text[], $17::int[])
       ON CONFLICT (kind, value) DO UPDATE SET n = identity_name_counts.n + EXCLUDED.n
       RETURNING 1),
     reviewed AS (
       INSERT INTO identity_reviews (patient_a, patient_b, weight, reason, breakdown)
       SELECT t.a, t.b, t.w, t.r, t.bd::jsonb
         FROM unnest($21::text[], $22::text[], $23::float8[], $24::text[], $25::text[]) AS t(a, b, w, r, bd)
        WHERE NOT EXISTS (SELECT 1 FROM identity_decisions x WHERE x.patient_a = t.a AND x.patient_b = t.b)
       ON CONFLICT (patient_a, patient_b) WHERE status = 'open'
       DO UPDATE SET weight = EXCLUDED.weight, reason = EXCLUDED.reason, breakdown = EXCLUDED.breakdown,
          updated_at = now()
       RETURNING 1)
     SELECT (SELECT count(*) FROM bumped) AS bumped, (SELECT count(*) FROM up) AS up,
            (SELECT count(*) FROM person) AS person, (SELECT count(*) FROM left_person) AS left_person,
            (SELECT count(*) FROM counted) AS counted, (SELECT count(*) FROM reviewed) AS reviewed`,
    [
      d.patientId,
      w.record.personId,
      w.record.reason,
      w.record.assurance,
      w.record.evidence?.patientId ?? null,
      w.record.evidence?.weight ?? null,
      d.active,
      JSON.stringify(d),
      demographicsHash(d),
      d.given[0] ?? null,
      d.families[0] ?? null,
      w.record.blockKeys,
      w.record.orderKeys,
      [...new Set(w.bump)],
      kinds,
      values,
      deltas,
      w.createPerson ?? null,
      w.leave?.personId ?? null,
      w.leave?.mergedInto ?? null,
      reviews.map((r) => orderedPair(r.a, r.b)[0]),
      reviews.map((r) => orderedPair(r.a, r.b)[1]),
      reviews.map((r) => r.weight),
      reviews.map((r) => r.reason),
      reviews.map((r) => JSON.stringify(r.breakdown)),
    ],
    { prepared: true },
  );
  return Number(row?.bumped ?? 0);
}

/** Frequencies of one record's names (the only ones exact agreement can be on). */
export async function nameFrequencies(tx: Queryable, d: Demographics): Promise<NameFrequencies> {
  const rows = await tx.query<{ kind: string; value: string; n: number }>(
    `SELECT kind, value, n FROM identity_name_counts WHERE (kind, value) IN (('given', $1), ('family', $2))
     UNION ALL SELECT '*', '*', (SELECT GREATEST(reltuples, 0)::int FROM pg_class WHERE oid = 'identity_records'::regclass)`,
    [d.given[0] ?? '', d.families[0] ?? ''],
  );
  const get = (kind: string, value: string): number =>
    rows.find((r) => r.kind === kind && r.value === value)?.n ?? 0;
  return { total: get('*', '*'), count: (kind, value) => get(kind, value) };
}

/**
 * Creates a person for `patientId` and returns its id: the hash of the patient id, or of the id
 * and a counter when that one is taken (the record left a person it founded).
 */
export async function createPersonFor(tx: Queryable, patientId: string): Promise<string> {
  for (let n = 0; ; n++) {
    const id = hashResourceId('Person', n === 0 ? [patientId] : [patientId, String(n)]);
    const rows = await tx.query<{ id: string }>(
      `INSERT INTO identity_persons (id) VALUES ($1) ON CONFLICT (id) DO NOTHING RETURNING id`,
      [id],
    );
    if (rows.length > 0) return id;
  }
}

/**
 * Row-locks persons in id order, so two linkers touching the same persons queue, and returns
 * their version ids (missing ids are absent).
 */
export async function lockPersons(tx: Queryable, ids: readonly string[]): Promise<Map<string, number>> {
  const rows = await tx.query<{ id: string; version_id: number }>(
    `SELECT id, version_id FROM identity_persons WHERE id = ANY($1::text[]) ORDER BY id FOR UPDATE`,
    [[...new Set(ids)]],
  );
  return new Map(rows.map((r) => [r.id, r.version_id]));
}

/** Marks persons changed: a new version of their FHIR Person. */
export async function bumpPersons(tx: Queryable, ids: readonly string[]): Promise<void> {
  await tx.query(
    `UPDATE identity_persons SET version_id = version_id + 1, updated_at = now() WHERE id = ANY($1::text[])`,
    [[...new Set(ids)]],
  );
}

/** Retires a person that has no records left, naming where they went. */
export async function retireIfEmpty(
  tx: Queryable,
  id: string,
  mergedInto: string | undefined,
): Promise<boolean> {
  const rows = await tx.query<{ id: string }>(
    `UPDATE identity_persons SET active = false, merged_into = $2, version_id = version_id + 1, updated_at = now()
      WHERE id = $1 AND active AND NOT EXISTS (SELECT 1 FROM identity_records WHERE person_id = $1)
      RETURNING id`,
    [id, mergedInto ?? null],
  );
  return rows.length > 0;
}

export interface RecordWrite {
  readonly demographics: Demographics;
  readonly personId: string;
  readonly reason: LinkReason;
  readonly assurance: 'level3' | 'level4';
  readonly evidence?: { readonly patientId: string; readonly weight?: number };
  readonly blockKeys: readonly string[];
  readonly orderKeys: readonly string[];
}

/**
 * +1/-1 per name whose count the write changes. There is no counter of all records: one row
 * every link updates would serialize every message's transaction on it until commit; the total
 * is the planner's row estimate instead, which frequency smoothing does not need exact.
 */
function nameDeltas(previous: Demographics | undefined, next: Demographics): [string[], string[], number[]] {
  const delta = new Map<string, number>();
  const add = (d: Demographics | undefined, by: number): void => {
    if (d === undefined) return;
    for (const [kind, value] of [
      ['given', d.given[0]],
      ['family', d.families[0]],
    ] as const) {
      if (value !== undefined && value !== '') {
        delta.set(`${kind}\u0000${value}`, (delta.get(`${kind}\u0000${value}`) ?? 0) + by);
      }
    }
  };
  add(previous, -1);
  add(next, 1);
  const kept = [...delta].filter(([, n]) => n !== 0);
  return [
    kept.map(([k]) => k.split('\u0000')[0] as string),
    kept.map(([k]) => k.split('\u0000')[1] as string),
    kept.map(([, n]) => n),
  ];
}

/** Moves every record of `from` to `to` (a merge or an analyst's link joins two persons). */
export async function moveMembers(tx: Queryable, from: string, to: string): Promise<string[]> {
  const rows = await tx.query<{ patient_id: string }>(
    `UPDATE identity_records SET person_id = $2, linked_at = now() WHERE person_id = $1 RETURNING patient_id`,
    [from, to],
  );
  return rows.map((r) => r.patient_id);
}

/** Sets how one record is linked (after a move, for the record the decision was about). */
export async function setLinkReason(
  tx: Queryable,
  patientId: string,
  reason: LinkReason,
  assurance: 'level3' | 'level4',
): Promise<void> {
  await tx.query(`UPDATE identity_records SET reason = $2, assurance = $3 WHERE patient_id = $1`, [
    patientId,
    reason,
    assurance,
  ]);
}
