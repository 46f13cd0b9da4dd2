/**
 * Who is a patient's PCP, from every source the engine has: the messages themselves (PD1-4 and
 * ROL role PP, mapped to `Patient.generalPractitioner`), the same person's records at other
 * facilities (identity links only: a twin or an unlinked look-alike is another person), and the
 * rosters practices upload. Every attribution keeps its source, so a notice says why it was sent.
 */
import type { Queryable } from '../store/db';
import type { JsonObject } from '../store/fhir-json';
import type { NoticeReason } from '../store/notification-store';

export const NPI_SYSTEM = 'http://hl7.org/fhir/sid/us-npi';

/** A PCP as a source names them: by NPI where known, else by the resource the record points at. */
export interface Attribution {
  readonly npi?: string;
  /** `Practitioner/<id>`, `PractitionerRole/<id>` or `Organization/<id>` as the source named it. */
  readonly ref?: string;
  readonly reason: NoticeReason;
}

/** The rosters' answer for one patient (notify/roster-store.ts); injected so this file stays SQL of its own. */
export type RosterLookup = (tx: Queryable, patientId: string) => Promise<readonly RosterEntry[]>;

export interface RosterEntry {
  readonly roster: string;
  readonly organization?: string;
  readonly practitionerNpi?: string;
  readonly practitioner?: string;
}

export interface PatientAttribution {
  /** `Patient/<id>` of every record of the patient's person (the patient's own first). */
  readonly patients: readonly string[];
  readonly attributions: readonly Attribution[];
}

function references(value: unknown): string[] {
  if (!Array.isArray(value)) return [];
  return value
    .map((v) => (typeof v === 'object' && v !== null ? (v as JsonObject)['reference'] : undefined))
    .filter((r): r is string => typeof r === 'string' && /^[A-Za-z]+\/[A-Za-z0-9\-.]{1,64}$/.test(r));
}

function npiOf(practitioner: JsonObject): string | undefined {
  const ids = Array.isArray(practitioner['identifier']) ? practitioner['identifier'] : [];
  for (const id of ids) {
    const i = id as JsonObject;
    if (i['system'] === NPI_SYSTEM && typeof i['value'] === 'string') return i['value'];
  }
  return undefined;
}

/**
 * The patient's person's records and their PCPs. A record that is not linked yet counts alone:
 * attribution never widens to records identity has not joined.
 */
export async function attributePatient(
  tx: Queryable,
  patientId: string,
  rosters?: RosterLookup,
): Promise<PatientAttribution> {
  // The records and, in the same round trip, every Practitioner they name (for its NPI); the
  // references are checked below as before, so a row the checks drop is never used.
  const rows = await tx.query<{ id: string; gp: unknown; practitioner: JsonObject | null }>(
    `WITH me AS (SELECT person_id FROM identity_records WHERE patient_id = $1),
          pts AS (SELECT $1::text AS patient_id
                  UNION SELECT r.patient_id FROM identity_records r JOIN me ON r.person_id = me.person_id
                   WHERE r.active),
          recs AS MATERIALIZED (
            SELECT f.id, f.resource->'generalPractitioner' AS gp
              FROM fhir_resources f JOIN pts ON f.id = pts.patient_id
             WHERE f.resource_type = 'Patient' AND NOT f.deleted)
     SELECT id, gp, NULL::jsonb AS practitioner FROM recs
     UNION ALL
     SELECT p.id, NULL, p.resource FROM fhir_resources p
      WHERE p.resource_type = 'Practitioner' AND NOT p.deleted
        AND p.id IN (SELECT substr(g->>'reference', 14)
                       FROM recs CROSS JOIN LATERAL jsonb_array_elements(
                              CASE WHEN jsonb_typeof(recs.gp) = 'array' THEN recs.gp ELSE '[]'::jsonb END) AS g
                      WHERE g->>'reference' LIKE 'Practitioner/%')`,
    [patientId],
    { prepared: true },
  );
  const records = rows.filter((r) => r.practitioner === null);
  records.sort((a, b) => (a.id === patientId ? -1 : b.id === patientId ? 1 : a.id.localeCompare(b.id)));
  const named: { ref: string; via: string; own: boolean }[] = records.flatMap((r) =>
    references(r.gp).map((ref) => ({ ref, via: `Patient/${r.id}`, own: r.id === patientId })),
  );
  const practitioners = new Map<string, JsonObject>(
    rows.flatMap((r) => (r.practitioner !== null ? [[`Practitioner/${r.id}`, r.practitioner] as const] : [])),
  );
  const npis = new Map<string, string>();
  for (const ref of new Set(named.map((n) => n.ref))) {
    const practitioner = practitioners.get(ref);
    const npi = practitioner === undefined ? undefined : npiOf(practitioner);
    if (npi !== undefined) npis.set(ref, npi);
  }
  const attributions: Attribution[] = named.map((n) => {
    const npi = npis.get(n.ref);
    return {
      ...(npi !== undefined ? { npi } : {}),
      ref: n.ref,
      reason: {
        source: n.own ? 'message' : 'person',
        practitioner: npi !== undefined ? `npi:${npi}` : n.ref,
        via: n.via,
      },
    };
  });
  for (const entry of rosters === undefined ? [] : await rosters(tx, patientId)) {
    const ref = entry.practitioner ?? entry.organization;
    attributions.push({
      ...(entry.practitionerNpi !== undefined ? { npi: entry.practitionerNpi } : {}),
      ...(ref !== undefined ? { ref } : {}),
      reason: {
        source: 'roster',
        ...(entry.practitionerNpi !== undefined
          ? { practitioner: `npi:${entry.practitionerNpi}` }
          : ref !== undefined
            ? { practitioner: ref }
            : {}),
        via: entry.roster,
      },
    });
  }
  return { patients: records.map((r) => `Patient/${r.id}`), attributions };
}
