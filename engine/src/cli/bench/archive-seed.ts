/**
 * A large archive for the archive-search benchmark, written straight into `messages` with SQL
 * (generate_series), not through MLLP: a million rows in a minute instead of hours. The spread
 * is a hospital network's: 20 facilities of uneven size, ADT and ORU, mostly processed with a
 * few failed (eight causes) and rejected, patients with a handful of messages each whose names
 * follow surname frequency (accents included), over 90 days, ids rising with received time.
 */
import type { Db } from '../../store/db';
import { errorKeyOfError } from '../../store/error-key';
import { normalizeNamePart } from '../../hl7/patient-name';
import { FEMALE_NAMES, MALE_NAMES, SURNAMES } from './identity-population-names';

export interface ArchiveSeedOptions {
  readonly rows: number;
  /** Rows per INSERT, so progress shows and no statement runs for minutes. @defaultValue 100000 */
  readonly batch?: number;
  readonly log?: (line: string) => void;
}

export interface SeededArchive {
  readonly rows: number;
  readonly patients: number;
  readonly facilities: number;
  readonly days: number;
  readonly seedSeconds: number;
  readonly analyzeSeconds: number;
}

export const SEED_FACILITIES = 20;
export const SEED_DAYS = 90;
/** Messages per patient on average. */
const MESSAGES_PER_PATIENT = 5;

/** The failures of the seeded archive: what process-message.ts stores, by cause. */
const FAILURES = [
  {
    code: 'missing-required',
    diagnostics: 'Observation "observation" needs an id but a required id location is empty',
    location: 'OBX-3.1',
    rule: 'mappings/rules/observation.yaml#observation.id',
  },
  {
    code: 'missing-required',
    diagnostics: 'Patient "patient" needs an id but a required id location is empty',
    location: 'PID-3.1',
    rule: 'mappings/rules/patient.yaml#patient.id',
  },
  {
    code: 'missing-required',
    diagnostics: 'Location "bed" needs an id but a required id location is empty',
    location: 'PV1-3.3',
    rule: 'mappings/rules/location.yaml#bed.id',
  },
  { code: 'invalid', diagnostics: 'eventTime is not a FHIR dateTime: 2024-13-45', location: 'eventTime' },
  { code: 'invalid', diagnostics: 'eventTime is not a FHIR dateTime: 20240230', location: 'eventTime' },
  { code: 'not-supported', diagnostics: 'request.method PATCH is not supported' },
  { code: 'ECONNRESET', diagnostics: 'Connection terminated unexpectedly' },
  { code: '57014', diagnostics: 'canceling statement due to statement timeout' },
].map((f) => ({ ...f, mappingFile: 'mappings/oru-r01.yaml', mappingVersion: '1' }));

/**
 * Seeds `rows` messages into the (migrated, empty) schema `db` works in, then VACUUM ANALYZE so
 * the planner sees the data as a long-running archive's autovacuum would leave it.
 */
export async function seedArchive(db: Db, o: ArchiveSeedOptions): Promise<SeededArchive> {
  const batch = o.batch ?? 100_000;
  const patients = Math.max(1, Math.round(o.rows / MESSAGES_PER_PATIENT));
  const given = [...FEMALE_NAMES, ...MALE_NAMES];
  const params = {
    families: SURNAMES,
    familyKeys: SURNAMES.map(normalizeNamePart),
    givens: given,
    givenKeys: given.map(normalizeNamePart),
    errors: FAILURES.map((f) => JSON.stringify(f)),
    errorKeys: FAILURES.map((f) => errorKeyOfError(f) ?? ''),
  };
  const started = performance.now();
  // Loading without the secondary indexes and building them after, as a restore would: the same
  // schema, minutes sooner. The definitions are the migrations' own, read back from the catalog.
  const indexes = await db.query<{ indexname: string; indexdef: string }>(
    `SELECT indexname, indexdef FROM pg_indexes
      WHERE schemaname = current_schema() AND tablename = 'messages' AND indexname <> 'messages_pkey'`,
  );
  for (const i of indexes) await db.exec(`DROP INDEX ${i.indexname}`);
  for (let from = 1; from <= o.rows; from += batch) {
    const to = Math.min(o.rows, from + batch - 1);
    await db.query(SEED_SQL, [
      from,
      to,
      o.rows,
      patients,
      params.families,
      params.familyKeys,
      params.givens,
      params.givenKeys,
      params.errors,
      params.errorKeys,
    ]);
    o.log?.(`  archive: seeded ${to} of ${o.rows} rows`);
  }
  o.log?.(`  archive: building ${indexes.length} indexes`);
  for (const i of indexes) await db.exec(i.indexdef);
  const seedSeconds = (performance.now() - started) / 1000;
  const analyzing = performance.now();
  await db.exec('VACUUM ANALYZE messages');
  return {
    rows: o.rows,
    patients,
    facilities: SEED_FACILITIES,
    days: SEED_DAYS,
    seedSeconds,
    analyzeSeconds: (performance.now() - analyzing) / 1000,
  };
}

/**
 * One batch, rows $1..$2 of $3. Per row: a patient (uniform over $4), whose facility and name
 * come from hashes of its number (so each patient keeps one name and MRN: surname rank skewed to
 * the common end); a type, a status and, for failures, a cause drawn at random.
 */
const SEED_SQL = `
WITH r AS (
  SELECT i,
         floor(random() * $4)::bigint AS p,
         random() AS t,
         random() AS s,
         random() AS c,
         random() AS j
    FROM generate_series($1::bigint, $2::bigint) AS g(i)
), p AS (
  SELECT r.*,
         ((p * 2654435761) % 4294967296) / 4294967296.0 AS u1,
         ((p * 40503 + 12345) % 65537) / 65537.0 AS u2,
         ((p * 69069 + 1) % 1000003) / 1000003.0 AS u3
    FROM r
), m AS (
  SELECT i, p, j,
         'FAC' || lpad((1 + floor(${SEED_FACILITIES} * power(u3, 1.6)))::int::text, 2, '0') AS facility,
         1 + floor(cardinality($5::text[]) * power(u1, 1.5))::int AS fi,
         1 + floor(cardinality($7::text[]) * u2)::int AS gi,
         CASE WHEN t < 0.35 THEN 'A08' WHEN t < 0.47 THEN 'A01' WHEN t < 0.59 THEN 'A03'
              WHEN t < 0.67 THEN 'A04' WHEN t < 0.72 THEN 'A02' ELSE 'R01' END AS event,
         CASE WHEN s < 0.93 THEN 'processed' WHEN s < 0.96 THEN 'ignored' WHEN s < 0.985 THEN 'failed'
              WHEN s < 0.995 THEN 'rejected' ELSE 'received' END AS status,
         1 + floor(cardinality($9::text[]) * power(c, 2))::int AS ci,
         now() - interval '${SEED_DAYS} days' + (i::float8 / $3) * interval '${SEED_DAYS} days'
           + (j - 0.5) * interval '20 seconds' AS received_at
    FROM p
), v AS (
  SELECT m.*,
         CASE WHEN event = 'R01' THEN 'LAB' ELSE 'EPIC' END AS app,
         CASE WHEN event = 'R01' THEN 'ORU' ELSE 'ADT' END AS type,
         'MRN' || lpad(p::text, 8, '0') AS mrn,
         'MSG' || i AS control_id
    FROM m
)
INSERT INTO messages (sender, sending_app, sending_facility, control_id, message_type, trigger_event, version,
  patient_key, patient_name, patient_name_key, raw, received_at, status, error, error_key, content_hash,
  process_count, processed_at, processing_ms, mapping_version)
SELECT app || '^' || facility, app, facility, control_id, type, event, '2.5.1',
       facility || '|' || mrn,
       ($5::text[])[fi] || ', ' || ($7::text[])[gi],
       ($6::text[])[fi] || '^' || ($8::text[])[gi],
       convert_to('MSH|^~\\&|' || app || '|' || facility || '|CARE|CARE|' || to_char(received_at, 'YYYYMMDDHH24MISS')
         || '||' || type || '^' || event || '|' || control_id || '|P|2.5.1' || chr(13)
         || 'PID|1||' || mrn || '^^^' || facility || '^MR||' || ($5::text[])[fi] || '^' || ($7::text[])[gi], 'UTF8'),
       received_at, status,
       CASE WHEN status = 'failed' THEN ($9::text[])[ci]::jsonb
            WHEN status = 'rejected' THEN '{"code":"unknown-sender","diagnostics":"sender is not authorised"}'::jsonb END,
       CASE WHEN status = 'failed' THEN ($10::text[])[ci] END,
       md5(i::text),
       CASE WHEN status IN ('processed', 'ignored', 'failed') THEN 1 ELSE 0 END,
       CASE WHEN status IN ('processed', 'ignored', 'failed') THEN received_at + interval '40 milliseconds' END,
       CASE WHEN status IN ('processed', 'ignored', 'failed') THEN 5 + 30 * j END,
       CASE WHEN status IN ('processed', 'ignored', 'failed') THEN '1' END
  FROM v`;
