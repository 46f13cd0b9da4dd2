/**
 * Finds an EHR's launch Patient (a record the engine does not store) among the engine's linked
 * records, at the link threshold only: an app shown another person's timeline is worse than one
 * shown none, so anything short of one confident person is "none", never a best guess.
 */
import type { Queryable } from '../store/db';
import type { JsonObject } from '../store/fhir-json';
import { personMembers } from './identity-store';
import type { IdentityRules } from './link-patient';
import { matchDemographics, type DemographicMatch, type MatchGrade } from './match-demographics';
import { decidePersonMatch } from './person-match-decision';
import { personIdOf } from './person-resource';

/** One engine record of the matched person. */
export interface MatchedRecord {
  readonly patientId: string;
  /** The record's MRN authority (its MR identifier system), when it has one. */
  readonly facility: string | undefined;
  /**
   * `match`: the record itself scores a link with the launch Patient (or shares its certain
   * identifier). `person`: it belongs to the matched person through identity links (a merge, an
   * analyst, a link on other records) but does not score a link on its own.
   */
  readonly via: 'match' | 'person';
  /** `$match`'s grade and weight, for records that scored at least the review threshold. */
  readonly grade?: MatchGrade;
  readonly weight?: number;
  readonly probability?: number;
}

/** Why no person was chosen. */
export type NoMatchReason = 'no-match' | 'ambiguous';

export type LaunchPatientMatch =
  | {
      readonly status: 'matched';
      readonly personId: string;
      /** The best-scoring record: the launch patient's id in the engine. */
      readonly patientId: string;
      readonly basis: 'identifier' | 'score';
      /** Every record of the person, the best first. */
      readonly records: readonly MatchedRecord[];
    }
  | {
      readonly status: 'none';
      readonly reason: NoMatchReason;
      /** What an analyst should look at: candidates at review level or above, best first. */
      readonly candidates: readonly DemographicMatch[];
    };

/**
 * Matches `patient` (a FHIR Patient from another system; its id is ignored) with
 * matchDemographics and decides with linking's rules (decidePersonMatch).
 */
export async function matchLaunchPatient(
  db: Queryable,
  patient: JsonObject,
  rules: IdentityRules,
): Promise<LaunchPatientMatch> {
  const matches = await matchDemographics(db, patient, rules);
  const decision = decidePersonMatch(matches, rules);
  if (decision.kind === 'none') return { status: 'none', reason: 'no-match', candidates: [] };
  if (decision.kind !== 'matched') {
    return {
      status: 'none',
      reason: decision.kind === 'ambiguous' ? 'ambiguous' : 'no-match',
      candidates: decision.candidates,
    };
  }
  const best = decision.match;
  // The person may have been merged since the candidates were read: follow the record.
  const personId = (await personIdOf(db, best.patientId)) ?? best.personId;
  const scored = new Map(matches.map((m) => [m.patientId, m]));
  const records = (await personMembers(db, personId)).map((member): MatchedRecord => {
    const id = member.demographics.patientId;
    const m = scored.get(id);
    const direct = m !== undefined && (m.outcome === 'link' || m.sharesIdentifier);
    return {
      patientId: id,
      facility: member.demographics.facility,
      via: direct ? 'match' : 'person',
      ...(m !== undefined ? { grade: m.grade, weight: m.weight, probability: m.probability } : {}),
    };
  });
  const ordered = [
    ...records.filter((r) => r.patientId === best.patientId),
    ...records.filter((r) => r.patientId !== best.patientId),
  ];
  if (ordered.length === 0) {
    // The record left its person between the two reads: no confident answer now.
    return { status: 'none', reason: 'no-match', candidates: [best] };
  }
  return { status: 'matched', personId, patientId: best.patientId, basis: decision.basis, records: ordered };
}
