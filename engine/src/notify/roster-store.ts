/**
 * The roster tables, read and written inside the caller's transaction. Knows rows, not rules:
 * how a row is matched is roster-match.ts's. A roster is replaced as a whole, so a practice's
 * new upload (or a Group's new version) never leaves a mix of its old and new rows behind.
 */
import type { Queryable } from '../store/db';
import { lockKeys } from '../store/advisory-locks';
import type { JsonObject } from '../store/fhir-json';

export type RosterStatus = 'matched' | 'review' | 'unmatched';

/** What a row names its patient by. */
export type RosterBasis = 'reference' | 'identifier' | 'demographics';

/** One roster row as written. */
export interface RosterMemberWrite {
  readonly row: number;
  /** The row's own organization, when it differs from the roster's (an ATR provider organization). */
  readonly organization?: string;
  readonly practitionerNpi?: string;
  /** `Practitioner/<id>` or `PractitionerRole/<id>`, when known. */
  readonly practitioner?: string;
  readonly basis: RosterBasis;
  /** The minimal Patient matching reads; absent for a reference to an engine Patient. */
  readonly demographics?: JsonObject;
  readonly blockKeys: readonly string[];
  readonly status: RosterStatus;
  readonly personId?: string;
  readonly patientId?: string;
  /** Match weight of the row's best candidate. */
  readonly weight?: number;
}

/** One roster row as stored. */
export interface RosterMember {
  readonly roster: string;
  readonly organization: string | undefined;
  readonly row: number;
  readonly practitionerNpi: string | undefined;
  readonly practitioner: string | undefined;
  readonly basis: RosterBasis;
  readonly demographics: JsonObject | undefined;
  readonly status: RosterStatus;
  readonly personId: string | undefined;
  readonly patientId: string | undefined;
  readonly weight: number | undefined;
  readonly updatedAt: string;
}

interface MemberRow {
  roster: string;
  organization: string | null;
  row_number: number;
  practitioner_npi: string | null;
  practitioner: string | null;
  basis: RosterBasis;
  demographics: JsonObject | null;
  status: RosterStatus;
  person_id: string | null;
  patient_id: string | null;
  score: number | null;
  updated_at: Date | string;
}

const COLUMNS = `roster, organization, row_number, practitioner_npi, practitioner, basis, demographics, status,
  person_id, patient_id, score, updated_at`;

function toMember(r: MemberRow): RosterMember {
  return {
    roster: r.roster,
    organization: r.organization ?? undefined,
    row: r.row_number,
    practitionerNpi: r.practitioner_npi ?? undefined,
    practitioner: r.practitioner ?? undefined,
    basis: r.basis,
    demographics: r.demographics ?? undefined,
    status: r.status,
    personId: r.person_id ?? undefined,
    patientId: r.patient_id ?? undefined,
    weight: r.score ?? undefined,
    updatedAt: (r.updated_at instanceof Date ? r.updated_at : new Date(r.updated_at)).toISOString(),
  };
}

/** Rows written per statement: bounded parameter arrays for a 50,000-row roster. */
const WRITE_CHUNK = 2_000;

/**
 * Replaces every row of `roster` with `members`, in the caller's transaction. Concurrent
 * replacements of one roster queue on its lock; a row that is the same as before keeps its
 * `created_at`.
 */
export async function replaceRoster(
  tx: Queryable,
  roster: string,
  organization: string | undefined,
  members: readonly RosterMemberWrite[],
): Promise<void> {
  await lockKeys(tx, [`roster:${roster}`]);
  await tx.query(`DELETE FROM roster_members WHERE roster = $1 AND row_number <> ALL($2::int[])`, [
    roster,
    members.map((m) => m.row),
  ]);
  for (let i = 0; i < members.length; i += WRITE_CHUNK) {
    const chunk = members.slice(i, i + WRITE_CHUNK);
    await tx.query(
      `INSERT INTO roster_members (roster, organization, row_number, practitioner_npi, practitioner, basis,
          demographics, block_keys, status, person_id, patient_id, score)
       SELECT $1, COALESCE(t.org, $2), t.row_number, t.npi, t.practitioner, t.basis, t.demographics::jsonb,
              ARRAY(SELECT jsonb_array_elements_text(t.keys::jsonb)), t.status, t.person_id, t.patient_id, t.score
         FROM unnest($3::int[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $9::text[], $10::text[],
                     $11::text[], $12::text[], $13::float8[])
              AS t(row_number, org, npi, practitioner, basis, demographics, keys, status, person_id, patient_id, score)
       ON CONFLICT (roster, row_number) DO UPDATE SET organization = EXCLUDED.organization,
          practitioner_npi = EXCLUDED.practitioner_npi, practitioner = EXCLUDED.practitioner, basis = EXCLUDED.basis,
          demographics = EXCLUDED.demographics, block_keys = EXCLUDED.block_keys, status = EXCLUDED.status,
          person_id = EXCLUDED.person_id, patient_id = EXCLUDED.patient_id, score = EXCLUDED.score,
          created_at = CASE WHEN (roster_members.demographics, roster_members.patient_id, roster_members.practitioner_npi,
                                   roster_members.practitioner)
                                 IS NOT DISTINCT FROM (EXCLUDED.demographics, EXCLUDED.patient_id,
                                   EXCLUDED.practitioner_npi, EXCLUDED.practitioner)
                            THEN roster_members.created_at ELSE now() END,
          updated_at = now()`,
      [
        roster,
        organization ?? null,
        chunk.map((m) => m.row),
        chunk.map((m) => m.organization ?? null),
        chunk.map((m) => m.practitionerNpi ?? null),
        chunk.map((m) => m.practitioner ?? null),
        chunk.map((m) => m.basis),
        chunk.map((m) => (m.demographics === undefined ? null : JSON.stringify(m.demographics))),
        chunk.map((m) => JSON.stringify(m.blockKeys)),
        chunk.map((m) => m.status),
        chunk.map((m) => m.personId ?? null),
        chunk.map((m) => m.patientId ?? null),
        chunk.map((m) => m.weight ?? null),
      ],
    );
  }
}

/** Deletes every row of `roster` (a deleted Group); returns how many there were. */
export async function deleteRoster(tx: Queryable, roster: string): Promise<number> {
  await lockKeys(tx, [`roster:${roster}`]);
  const rows = await tx.query<{ id: string }>(`DELETE FROM roster_members WHERE roster = $1 RETURNING id`, [
    roster,
  ]);
  return rows.length;
}

/** Every row of `roster`, in row order. */
export async function listRoster(db: Queryable, roster: string): Promise<RosterMember[]> {
  const rows = await db.query<MemberRow>(
    `SELECT ${COLUMNS} FROM roster_members WHERE roster = $1 ORDER BY row_number`,
    [roster],
  );
  return rows.map(toMember);
}

/**
 * Matched rows of `personId`, and of the persons merged into it since (a retired person names
 * its survivor in `merged_into`, so a row matched before a merge still finds its patient).
 */
export async function matchedMembersOf(tx: Queryable, personId: string): Promise<RosterMember[]> {
  const rows = await tx.query<MemberRow>(
    `WITH RECURSIVE persons(id, depth) AS (
       SELECT $1::text, 0
       UNION
       SELECT p.id, persons.depth + 1 FROM identity_persons p JOIN persons ON p.merged_into = persons.id
        WHERE persons.depth < 50)
     SELECT ${COLUMNS} FROM roster_members
      WHERE status = 'matched' AND person_id IN (SELECT id FROM persons)
      ORDER BY roster, row_number`,
    [personId],
    { prepared: true },
  );
  return rows.map(toMember);
}

/**
 * Unmatched rows sharing a blocking key with `keys`, in roster and row order. Sorted here, not
 * in SQL: the engine's sessions plan generically (plan_cache_mode), and an ORDER BY with a
 * LIMIT is then planned as a scan of every row rather than a lookup in the blocks' GIN index.
 */
export async function unmatchedMembersByKeys(
  tx: Queryable,
  keys: readonly string[],
): Promise<RosterMember[]> {
  if (keys.length === 0) return [];
  const rows = await tx.query<MemberRow>(
    `SELECT ${COLUMNS} FROM roster_members WHERE status = 'unmatched' AND block_keys && $1::text[]`,
    [keys],
    { prepared: true },
  );
  return rows.map(toMember).sort((a, b) => a.roster.localeCompare(b.roster) || a.row - b.row);
}
