/**
 * The scopes the app asks the EHR for. SMART v2 names read access `.rs`; EHRs that only know
 * SMART v1 call it `.read` and may refuse what they do not know. The app asks for both forms unless
 * the EHR's smart-configuration says which one it speaks (`permission-v1`, `permission-v2`), and
 * falls back to v1 alone when an EHR answers `invalid_scope` to both (see launch-flow.ts).
 */

/**
 * Scopes when the engine's `/app/config.json` sends none. The engine's exchanged token carries
 * at most what the EHR granted, so the app asks the EHR for every type the timeline reads: the
 * clinical ones, the inbox (Communication) and the names an encounter points at (Location,
 * Practitioner, Organization). The engine's list (engine/src/auth/exchange-scopes.ts) is the source.
 */
export const DEFAULT_APP_SCOPES: readonly string[] = [
  'launch',
  'openid',
  'fhirUser',
  'patient/Patient.rs',
  'patient/Encounter.rs',
  'patient/Observation.rs',
  'patient/DiagnosticReport.rs',
  'patient/Condition.rs',
  'patient/Communication.rs',
  'patient/Location.rs',
  'patient/Practitioner.rs',
  'patient/Organization.rs',
  'online_access',
];

/** Which scope syntax a request uses. */
export type ScopeSyntax = 'both' | 'v2' | 'v1';

const V2_RESOURCE_SCOPE = /^(patient|user|system)\/([A-Za-z*]+)\.([cruds]+)$/;

/** The v1 form of a v2 resource scope (`patient/X.rs` → `patient/X.read`); other scopes unchanged. */
export function toV1Scopes(scope: string): string[] {
  const m = V2_RESOURCE_SCOPE.exec(scope);
  if (m === null) return [scope];
  const [, context, type, perms = ''] = m;
  const out: string[] = [];
  if (/[rs]/.test(perms)) out.push(`${context}/${type}.read`);
  if (/[cud]/.test(perms)) out.push(`${context}/${type}.write`);
  return out;
}

/** Which syntax to use given the EHR's advertised `capabilities` (undefined when unknown). */
export function scopeSyntaxFor(capabilities: readonly string[] | undefined): ScopeSyntax {
  if (capabilities === undefined) return 'both';
  const v1 = capabilities.includes('permission-v1');
  const v2 = capabilities.includes('permission-v2');
  if (v2 && !v1) return 'v2';
  if (v1 && !v2) return 'v1';
  return 'both';
}

/**
 * The space-separated scope string of a launch.
 * @param scopes - v2 scopes, as `/app/config.json` lists them.
 * @param launch - `ehr` (the EHR passed a `launch` id) or `standalone` (the user picks the patient
 *   at the EHR, so `launch` becomes `launch/patient`).
 */
export function scopeRequest(
  scopes: readonly string[],
  syntax: ScopeSyntax,
  launch: 'ehr' | 'standalone',
): string {
  const out: string[] = [];
  for (const s of scopes) {
    const scope = s === 'launch' && launch === 'standalone' ? 'launch/patient' : s;
    const v2 = [scope];
    const v1 = toV1Scopes(scope);
    const forms = syntax === 'v2' ? v2 : syntax === 'v1' ? v1 : [...v2, ...v1];
    for (const f of forms) if (!out.includes(f)) out.push(f);
  }
  return out.join(' ');
}
