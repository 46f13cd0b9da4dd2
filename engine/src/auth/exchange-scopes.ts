/**
 * The scopes of a token the engine issues for an EHR token: what the EHR granted, cut down to
 * what the care-timeline app may have, and to what the app asked for. Pure, so the rule can be
 * read and tested in one place; never wider than any of the three.
 */
import { parseScope, type Interaction, type ParsedScope } from './scope-grant';

/**
 * The most an exchanged token can carry, in SMART v2 form, all read and search within the
 * patient: the timeline's clinical types (the person's Patients, Encounters, Observations,
 * DiagnosticReports, Conditions), the practice inbox's notices about the patient
 * (Communication), and the reference data an encounter names (Location, Practitioner,
 * Organization; they hold no patient data, so a patient-bound token reads them outright).
 * Nothing is ever written with an exchanged token, and Person is left out: the token
 * response already says which records were matched and how. The other stored types
 * (AllergyIntolerance, Procedure, Coverage, RelatedPerson, ServiceRequest, Specimen,
 * DocumentReference) are left out too: the timeline shows none of them, so a token for it
 * need not carry them. Add one here when the app starts to show it.
 */
export const EXCHANGE_APP_SCOPES: readonly string[] = [
  'patient/Patient.rs',
  'patient/Encounter.rs',
  'patient/Observation.rs',
  'patient/DiagnosticReport.rs',
  'patient/Condition.rs',
  'patient/Communication.rs',
  'patient/Location.rs',
  'patient/Practitioner.rs',
  'patient/Organization.rs',
];

/** Interaction letters in SMART v2 order. */
const LETTERS: readonly Interaction[] = ['c', 'r', 'u', 'd', 's'];

/**
 * `patient/` and `user/` scopes only: a `user/` scope at the EHR allows what the user may see,
 * of which the launch patient's records are a part, so it narrows to the patient; `system/`
 * scopes and filtered scopes (`?`, which parseScope refuses) count for nothing.
 */
function clinicalScopes(scopes: readonly string[]): ParsedScope[] {
  return scopes
    .map(parseScope)
    .filter((s): s is ParsedScope => s !== undefined && (s.context === 'patient' || s.context === 'user'));
}

function allows(scopes: readonly ParsedScope[], type: string, letter: Interaction): boolean {
  return scopes.some(
    (s) => (s.resourceType === '*' || s.resourceType === type) && s.interactions.has(letter),
  );
}

/**
 * The exchanged token's scopes: each of EXCHANGE_APP_SCOPES, keeping only the interactions the
 * EHR granted (v1 `.read` counts as `rs`, `*` covers every type) and, when the request names a
 * `scope`, the ones it asked for. Always `patient/` v2 scopes, in EXCHANGE_APP_SCOPES order.
 * @param ehrGranted - the EHR introspection's `scope`, split.
 * @param requested - the exchange request's `scope`, split; undefined when it sent none.
 * @returns empty when nothing is left (the exchange then fails with `invalid_scope`).
 */
export function exchangeScopes(ehrGranted: readonly string[], requested?: readonly string[]): string[] {
  const ehr = clinicalScopes(ehrGranted);
  const asked = requested === undefined ? undefined : clinicalScopes(requested);
  const out: string[] = [];
  for (const app of EXCHANGE_APP_SCOPES.map(parseScope)) {
    if (app === undefined) continue;
    const letters = LETTERS.filter(
      (l) =>
        app.interactions.has(l) &&
        allows(ehr, app.resourceType, l) &&
        (asked === undefined || allows(asked, app.resourceType, l)),
    );
    if (letters.length > 0) out.push(`patient/${app.resourceType}.${letters.join('')}`);
  }
  return out;
}
