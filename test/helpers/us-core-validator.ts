/**
 * Validates a mapped resource against the US Core 5.0.1 profile it should meet, with
 * @medplum/core's validator (a package of the field) and no terminology server.
 *
 * Checked: the profile's cardinalities (US Core's mandatory elements), types, fixed and pattern
 * values, slices discriminated by value or pattern (Observation.category laboratory, the vital
 * signs' LOINC code and UCUM unit, Condition.category), the invariants of severity error (R4's
 * ait-1/ait-2, con-3..5, vs-1..3, US Core's us-core-1, -2, -6) and, on top of medplum, the codes
 * of required bindings to value sets the FHIR R4 package ships (AllergyIntolerance and
 * Condition clinicalStatus/verificationStatus, Patient.gender, Observation.status, ...).
 * Not checked: extensible and preferred bindings, and required bindings to value sets that live
 * only on a terminology server (LOINC, SNOMED CT, US Core's own value sets): any code passes;
 * must-support (an obligation on systems, not on a resource); target profiles of references
 * (medplum skips non-base targets); what a profile fixes inside a choice element's type slice
 * (the vital-sign profiles' `value[x]:valueQuantity.code`, e.g. heart rate `/min`: medplum does
 * not apply type slices of value[x]); and warnings and best-practice invariants.
 */
import { expandedCodes } from './local-value-sets';
import { profileForResource, type ProfiledResource, type ProfileChoice } from './us-core-profile-choice';
import { loadUsCoreProfiles, readDefinitions, type StructureDefinition } from './us-core-profiles';

/** One problem a profile finds, as `where: what`. */
export type UsCoreIssue = string;

/** The profile a resource was checked against and what it found; undefined when none applies. */
export interface UsCoreResult {
  readonly profile: string;
  readonly issues: readonly UsCoreIssue[];
}

/**
 * Validates one resource against its US Core profile, or against the named one (e.g.
 * `us-core-observation-lab`) whatever the resource says of itself.
 */
export type UsCoreValidator = (resource: ProfiledResource, profile?: string) => UsCoreResult | undefined;

interface MedplumIssue {
  readonly severity?: string;
  readonly expression?: readonly string[];
  readonly details?: { readonly text?: string };
}
interface TypedToken {
  readonly type: string;
  readonly path: string;
  readonly value: unknown;
}
interface MedplumValidation {
  readonly indexStructureDefinitionBundle: (bundle: StructureDefinition[]) => void;
  readonly validateResource: (
    resource: ProfiledResource,
    options: { profile: StructureDefinition; collect: { tokens: Record<string, TypedToken[]> } },
  ) => MedplumIssue[];
}

/**
 * @medplum/core, loaded so that Node 20 can: its subscription client reads WebSocket.CLOSING
 * and WebSocket.CLOSED when the module loads, and Node 20 has a global WebSocket only behind
 * --experimental-websocket (Node 22 always). Validation never opens a socket; a constructor with
 * the two WHATWG constants that refuses to connect lets the module load without one.
 */
async function importMedplum(): Promise<MedplumValidation> {
  const g = globalThis as { WebSocket?: unknown };
  g.WebSocket ??= Object.assign(
    function NoWebSocket(): never {
      throw new Error('no WebSocket in the US Core validator');
    },
    { CLOSING: 2, CLOSED: 3 },
  );
  // The package's types name @medplum/fhirtypes, which is not installed (they resolve to any):
  // the two functions used are typed here instead.
  const core: MedplumValidation = await import('@medplum/core');
  return core;
}

/** The codes of a token (code, Coding or CodeableConcept) as `system|code`, `|code` for a bare code. */
function tokenCodes(token: TypedToken): string[] {
  const v = token.value as { system?: string; code?: string; coding?: { system?: string; code?: string }[] };
  if (typeof token.value === 'string') return [`|${token.value}`];
  const codings = token.type === 'CodeableConcept' ? (v.coding ?? []) : [v];
  return codings.map((c) => `${c.system ?? ''}|${c.code ?? ''}`);
}

/** Required-binding issues for the value sets the package ships; others cannot be checked offline. */
function bindingIssues(tokens: Record<string, TypedToken[]>): UsCoreIssue[] {
  const issues: UsCoreIssue[] = [];
  for (const [url, values] of Object.entries(tokens)) {
    const codes = expandedCodes(url.split('|')[0] ?? url);
    if (codes === undefined) continue;
    for (const token of values) {
      const found = tokenCodes(token);
      const ok = found.some((c) => codes.has(c) || (c.startsWith('|') && codes.has(`*${c}`)));
      // A CodeableConcept with text only carries no code to check (R4 allows that for required).
      if (!ok && found.length > 0) issues.push(`${token.path}: no code from ${url} (${found.join(', ')})`);
    }
  }
  return issues;
}

function named(profile: string, profiles: Map<string, StructureDefinition>): ProfileChoice {
  const definition = [...profiles.values()].find((sd) => sd.id === profile);
  if (definition === undefined) throw new Error(`no profile ${profile}`);
  return { name: profile, definition };
}

/** Builds the validator: loads the FHIR R4 definitions into medplum once (a second or so). */
export async function createUsCoreValidator(): Promise<UsCoreValidator> {
  const medplum = await importMedplum();
  const resources = readDefinitions('profiles-resources.json');
  medplum.indexStructureDefinitionBundle(readDefinitions('profiles-types.json'));
  medplum.indexStructureDefinitionBundle(resources);
  const profiles = loadUsCoreProfiles(resources);
  return (resource, profile) => {
    const choice: ProfileChoice | undefined =
      profile === undefined ? profileForResource(resource, profiles) : named(profile, profiles);
    if (choice === undefined) return undefined;
    const tokens: Record<string, TypedToken[]> = {};
    let found: readonly MedplumIssue[];
    try {
      found = medplum.validateResource(resource, { profile: choice.definition, collect: { tokens } });
    } catch (err) {
      // medplum throws an OperationOutcomeError holding every issue once any is an error.
      const outcome = (err as { outcome?: { issue?: MedplumIssue[] } }).outcome;
      if (outcome?.issue === undefined) throw err;
      found = outcome.issue;
    }
    const issues = found
      .filter((i) => i.severity === 'error')
      .map((i) => `${i.expression?.[0] ?? resource.resourceType}: ${i.details?.text ?? ''}`);
    return { profile: choice.name, issues: [...issues, ...bindingIssues(tokens)] };
  };
}
