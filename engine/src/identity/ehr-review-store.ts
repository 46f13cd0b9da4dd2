/**
 * The review queue's EHR side (`identity_ehr_reviews`, migration 10): launch Patients an EHR
 * named that the engine could not put on one person at the link threshold. They are no stored
 * records, so they sit apart from the record pairs of `identity_reviews`, named by issuer and
 * EHR patient id, with only what matching reads of their demographics.
 */
import type { Queryable } from '../store/db';
import { asList, asString, field, type JsonObject } from '../store/fhir-json';
import type { DemographicMatch } from './match-demographics';
import type { NoMatchReason } from './launch-patient-match';

export type EhrReviewStatus = 'open' | 'matched';

/** A candidate as the queue keeps it: ids and weights only. */
export interface EhrReviewCandidate {
  readonly patientId: string;
  readonly personId: string;
  readonly weight: number;
  readonly grade: string;
}

export interface EhrReviewWrite {
  readonly issuer: string;
  readonly ehrPatient: string;
  readonly reason: NoMatchReason;
  /** The EHR's Patient resource; only what matching reads is kept (minimalPatient). */
  readonly patient: JsonObject;
  readonly candidates: readonly DemographicMatch[];
}

export interface EhrReview {
  readonly id: string;
  readonly status: EhrReviewStatus;
  readonly reason: NoMatchReason;
  readonly issuer: string;
  readonly ehrPatient: string;
  readonly patient: JsonObject;
  readonly candidates: readonly EhrReviewCandidate[];
  readonly attempts: number;
  readonly createdAt: string;
  readonly updatedAt: string;
  readonly resolvedAt?: string;
  readonly matchedPerson?: string;
}

const pick = (o: unknown, keys: readonly string[]): JsonObject =>
  Object.fromEntries(keys.flatMap((k) => (field(o, k) === undefined ? [] : [[k, field(o, k)]])));

/**
 * The part of a Patient that matching reads: names, birth date, gender, address, phone and
 * e-mail, identifiers. The rest of an EHR's Patient (contacts, extensions, narrative) is not
 * the queue's business and is not stored.
 */
export function minimalPatient(patient: JsonObject): JsonObject {
  const identifier = asList(patient['identifier']).map((i) => pick(i, ['system', 'value', 'type']));
  const name = asList(patient['name']).map((n) => pick(n, ['use', 'family', 'given']));
  const address = asList(patient['address']).map((a) => pick(a, ['line', 'city', 'state', 'postalCode']));
  const telecom = asList(patient['telecom'])
    .filter((t) => ['phone', 'email'].includes(asString(field(t, 'system')) ?? ''))
    .map((t) => pick(t, ['system', 'value']));
  return {
    resourceType: 'Patient',
    ...(identifier.length > 0 ? { identifier } : {}),
    ...(name.length > 0 ? { name } : {}),
    ...pick(patient, ['gender', 'birthDate']),
    ...(address.length > 0 ? { address } : {}),
    ...(telecom.length > 0 ? { telecom } : {}),
  };
}

/**
 * Opens a review of the EHR patient, or refreshes the open one (newer demographics and
 * candidates, one more attempt).
 * @returns the review's id.
 */
export async function openEhrReview(tx: Queryable, w: EhrReviewWrite): Promise<string> {
  const candidates: EhrReviewCandidate[] = w.candidates.map((c) => ({
    patientId: c.patientId,
    personId: c.personId,
    weight: c.weight,
    grade: c.grade,
  }));
  const [row] = await tx.query<{ id: string }>(
    `INSERT INTO identity_ehr_reviews (issuer, ehr_patient, reason, patient, candidates)
     VALUES ($1, $2, $3, $4, $5)
     ON CONFLICT (issuer, ehr_patient) WHERE status = 'open'
     DO UPDATE SET reason = EXCLUDED.reason, patient = EXCLUDED.patient, candidates = EXCLUDED.candidates,
        attempts = identity_ehr_reviews.attempts + 1, updated_at = now()
     RETURNING id::text AS id`,
    [w.issuer, w.ehrPatient, w.reason, JSON.stringify(minimalPatient(w.patient)), JSON.stringify(candidates)],
  );
  return row?.id ?? '';
}

/** A later exchange matched the EHR patient: its open review is closed with the person. */
export async function closeEhrReview(
  tx: Queryable,
  issuer: string,
  ehrPatient: string,
  personId: string,
): Promise<void> {
  await tx.query(
    `UPDATE identity_ehr_reviews SET status = 'matched', matched_person = $3, resolved_at = now(), updated_at = now()
      WHERE issuer = $1 AND ehr_patient = $2 AND status = 'open'`,
    [issuer, ehrPatient, personId],
  );
}

interface EhrReviewRow {
  id: string;
  status: EhrReviewStatus;
  reason: NoMatchReason;
  issuer: string;
  ehr_patient: string;
  patient: JsonObject;
  candidates: EhrReviewCandidate[];
  attempts: number;
  created_at: Date | string;
  updated_at: Date | string;
  resolved_at: Date | string | null;
  matched_person: string | null;
}

const iso = (t: Date | string): string => (t instanceof Date ? t : new Date(t)).toISOString();

function toReview(r: EhrReviewRow): EhrReview {
  return {
    id: r.id,
    status: r.status,
    reason: r.reason,
    issuer: r.issuer,
    ehrPatient: r.ehr_patient,
    patient: r.patient,
    candidates: r.candidates,
    attempts: r.attempts,
    createdAt: iso(r.created_at),
    updatedAt: iso(r.updated_at),
    ...(r.resolved_at !== null ? { resolvedAt: iso(r.resolved_at) } : {}),
    ...(r.matched_person !== null ? { matchedPerson: r.matched_person } : {}),
  };
}

/** One page of EHR reviews of `status`, newest first, and how many there are. */
export async function listEhrReviews(
  db: Queryable,
  status: EhrReviewStatus,
  count: number,
  offset: number,
): Promise<{ reviews: EhrReview[]; total: number }> {
  const [counted] = await db.query<{ total: number }>(
    `SELECT count(*)::int AS total FROM identity_ehr_reviews WHERE status = $1`,
    [status],
  );
  const rows = await db.query<EhrReviewRow>(
    `SELECT id::text AS id, status, reason, issuer, ehr_patient, patient, candidates, attempts,
            created_at, updated_at, resolved_at, matched_person
       FROM identity_ehr_reviews WHERE status = $1 ORDER BY id DESC LIMIT $2 OFFSET $3`,
    [status, count, offset],
  );
  return { reviews: rows.map(toReview), total: counted?.total ?? 0 };
}
