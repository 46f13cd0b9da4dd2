/**
 * Which resource types the /fhir API serves and which search parameters each supports, with how
 * each parameter's values are read out of a resource. The index writer, the query parser and the
 * CapabilityStatement all read this one table, so they cannot disagree.
 */
import type { DateRange } from './fhir-date';
import { asList, field, type JsonObject } from './fhir-json';
import { patientReferencesOf } from './fhir-patient-links';
import {
  booleanToken,
  dateOf,
  effectiveOf,
  nameStrings,
  periodOf,
  referencesOf,
  referencesTo,
  tokensOf,
  type TokenValue,
} from './fhir-index-values';

interface ParamBase {
  readonly name: string;
  readonly description: string;
}

/** A parameter matched by `system|code`. */
export interface TokenParam extends ParamBase {
  readonly type: 'token';
  readonly extract: (r: JsonObject) => TokenValue[];
}

/** A parameter matched by case- and accent-insensitive prefix. */
export interface StringParam extends ParamBase {
  readonly type: 'string';
  readonly extract: (r: JsonObject) => string[];
}

/** A parameter matched by interval comparison with eq/ne/lt/le/gt/ge/sa/eb prefixes. */
export interface DateParam extends ParamBase {
  readonly type: 'date';
  readonly extract: (r: JsonObject) => DateRange[];
}

/** A parameter matched by `Type/id`; usable in `_include`. */
export interface ReferenceParam extends ParamBase {
  readonly type: 'reference';
  /** Resource types the reference may point at. */
  readonly targets: readonly string[];
  readonly extract: (r: JsonObject) => string[];
}

/** One search parameter of one resource type. */
export type SearchParamDefinition = TokenParam | StringParam | DateParam | ReferenceParam;

/**
 * Types in the patient compartment: their `patient` search parameter says whose record they are
 * (a patient-bound token sees them for its patients only, `$everything` returns them) and a merge
 * re-points them to the survivor.
 */
export const PATIENT_COMPARTMENT_TYPES: readonly string[] = [
  'Encounter',
  'Observation',
  'DiagnosticReport',
  'Condition',
  'Procedure',
  'AllergyIntolerance',
  'Immunization',
  'MedicationRequest',
  'ServiceRequest',
  'Specimen',
  'DocumentReference',
  'Coverage',
  'EpisodeOfCare',
  'Account',
  'RelatedPerson',
  'Flag',
  'CarePlan',
  'CareTeam',
  'Provenance',
];

const patientParam: ReferenceParam = {
  name: 'patient',
  type: 'reference',
  description: 'The patient the resource is about (subject or patient); `subject` is an alias',
  targets: ['Patient'],
  extract: patientReferencesOf,
};

const token = (name: string, description: string, key: string): TokenParam => ({
  name,
  type: 'token',
  description,
  extract: (r) => tokensOf(r[key]),
});

const reference = (
  name: string,
  description: string,
  key: string,
  targets: readonly string[],
): ReferenceParam => ({
  name,
  type: 'reference',
  description,
  targets,
  extract: (r) => referencesOf(r[key]).filter((ref) => targets.some((t) => ref.startsWith(`${t}/`))),
});

const GROUP_MEMBER_TARGETS = [
  'Patient',
  'Practitioner',
  'PractitionerRole',
  'Device',
  'Medication',
  'Substance',
  'Group',
];
const COMMUNICATION_RECIPIENTS = [
  'Practitioner',
  'PractitionerRole',
  'Organization',
  'Patient',
  'RelatedPerson',
  'Group',
  'CareTeam',
  'HealthcareService',
  'Device',
];

const identifier = token('identifier', 'An identifier, as system|value or value', 'identifier');
const status = token('status', 'The status code', 'status');
const code = token('code', 'The code, as system|code or code', 'code');
const category = token('category', 'The category, as system|code or code', 'category');
const encounter = reference('encounter', 'The encounter the resource belongs to', 'encounter', ['Encounter']);
const effective: DateParam = {
  name: 'date',
  type: 'date',
  description: 'effective[x] (dateTime, instant or Period)',
  extract: effectiveOf,
};
const nameParam = (key: string): StringParam => ({
  name: 'name',
  type: 'string',
  description: 'Any part of the name (prefix match)',
  extract: (r) => nameStrings(r[key], 'all'),
});

const dateParam = (description: string, extract: (r: JsonObject) => DateRange[]): DateParam => ({
  name: 'date',
  type: 'date',
  description,
  extract,
});
const COVERAGE_PARTIES = ['Organization', 'Patient', 'RelatedPerson'];

/** The Coverage of a patient: FHIR's Coverage-patient is its beneficiary, not its subscriber. */
const coverageParams: readonly SearchParamDefinition[] = [
  { ...patientParam, description: 'The beneficiary (Coverage.beneficiary); `subject` is an alias' },
  reference('beneficiary', 'The plan member covered', 'beneficiary', ['Patient']),
  reference('subscriber', 'The subscriber to the policy', 'subscriber', ['Patient', 'RelatedPerson']),
  reference('policy-holder', 'Who owns the policy', 'policyHolder', COVERAGE_PARTIES),
  reference('payor', 'The issuer or payer (Coverage.payor)', 'payor', COVERAGE_PARTIES),
  identifier,
  status,
  token('type', 'The kind of coverage', 'type'),
];

const SPECIFIC: Readonly<Record<string, readonly SearchParamDefinition[]>> = {
  Patient: [
    identifier,
    nameParam('name'),
    {
      name: 'family',
      type: 'string',
      description: 'Family name',
      extract: (r) => nameStrings(r['name'], 'family'),
    },
    {
      name: 'given',
      type: 'string',
      description: 'Given name',
      extract: (r) => nameStrings(r['name'], 'given'),
    },
    { name: 'birthdate', type: 'date', description: 'Date of birth', extract: (r) => dateOf(r, 'birthDate') },
    token('gender', 'Administrative gender', 'gender'),
    {
      name: 'active',
      type: 'token',
      description: 'Whether the record is active',
      extract: (r) => booleanToken(r['active']),
    },
    reference('general-practitioner', 'The primary care provider', 'generalPractitioner', [
      'Practitioner',
      'Organization',
      'PractitionerRole',
    ]),
  ],
  Encounter: [
    patientParam,
    identifier,
    status,
    { name: 'date', type: 'date', description: 'Encounter.period', extract: (r) => periodOf(r, 'period') },
    token('class', 'Encounter class, as system|code or code', 'class'),
    token('type', 'Encounter type', 'type'),
  ],
  Observation: [patientParam, encounter, code, category, status, effective],
  DiagnosticReport: [
    patientParam,
    encounter,
    identifier,
    code,
    category,
    status,
    effective,
    reference('result', 'The Observations of the report', 'result', ['Observation']),
  ],
  Condition: [
    patientParam,
    encounter,
    code,
    category,
    token('clinical-status', 'Clinical status', 'clinicalStatus'),
  ],
  AllergyIntolerance: [
    patientParam,
    {
      name: 'code',
      type: 'token',
      description: 'The substance (code or reaction.substance), as system|code or code',
      extract: (r) => [
        ...tokensOf(r['code']),
        ...tokensOf(asList(r['reaction']).map((x) => field(x, 'substance'))),
      ],
    },
    token('clinical-status', 'Clinical status (active, inactive, resolved)', 'clinicalStatus'),
    token('category', 'food, medication, environment or biologic', 'category'),
    token('criticality', 'low, high or unable-to-assess', 'criticality'),
    // FHIR's AllergyIntolerance-date is when it was recorded, not the onset.
    dateParam('When it was recorded (recordedDate)', (r) => dateOf(r, 'recordedDate')),
  ],
  Procedure: [
    patientParam,
    encounter,
    identifier,
    code,
    status,
    dateParam('When it was performed (performedDateTime or performedPeriod)', (r) => [
      ...dateOf(r, 'performedDateTime'),
      ...periodOf(r, 'performedPeriod'),
    ]),
  ],
  Coverage: coverageParams,
  RelatedPerson: [
    patientParam,
    identifier,
    nameParam('name'),
    token('relationship', 'The relationship to the patient', 'relationship'),
  ],
  ServiceRequest: [
    patientParam,
    encounter,
    identifier,
    code,
    status,
    {
      name: 'authored',
      type: 'date',
      description: 'When signed (authoredOn)',
      extract: (r) => dateOf(r, 'authoredOn'),
    },
    reference('specimen', 'The specimens of the order', 'specimen', ['Specimen']),
  ],
  Specimen: [
    patientParam,
    identifier,
    token('type', 'The kind of specimen', 'type'),
    token('accession', 'The accession number (accessionIdentifier)', 'accessionIdentifier'),
  ],
  DocumentReference: [
    patientParam,
    {
      name: 'encounter',
      type: 'reference',
      description: 'The encounter of the document (context.encounter)',
      targets: ['Encounter'],
      extract: (r) => referencesTo('Encounter', field(r['context'], 'encounter')),
    },
    {
      name: 'identifier',
      type: 'token',
      description: 'masterIdentifier or an identifier, as system|value or value',
      extract: (r) => [...tokensOf(r['masterIdentifier']), ...tokensOf(r['identifier'])],
    },
    token('type', 'The kind of document', 'type'),
    category,
    status,
    dateParam('When the reference was created (date)', (r) => dateOf(r, 'date')),
  ],
  Practitioner: [identifier, nameParam('name')],
  Organization: [
    identifier,
    nameParam('name'),
    reference('endpoint', 'Where the organization is reached', 'endpoint', ['Endpoint']),
  ],
  Location: [identifier, nameParam('name')],
  PractitionerRole: [
    identifier,
    reference('practitioner', 'The practitioner', 'practitioner', ['Practitioner']),
    // A role may name its practitioner by NPI alone (a logical reference), as rosters do.
    {
      name: 'practitioner-identifier',
      type: 'token',
      description: 'An identifier of the practitioner (practitioner.identifier), as system|value',
      extract: (r) => tokensOf(field(r['practitioner'], 'identifier')),
    },
    reference('organization', 'The organization the role is at', 'organization', ['Organization']),
    reference('endpoint', 'Where the practitioner in this role is reached', 'endpoint', ['Endpoint']),
    {
      name: 'active',
      type: 'token',
      description: 'Whether the role is active',
      extract: (r) => booleanToken(r['active']),
    },
  ],
  Endpoint: [
    identifier,
    status,
    token('connection-type', 'The protocol, as system|code or code', 'connectionType'),
    reference('organization', 'The managing organization', 'managingOrganization', ['Organization']),
  ],
  Group: [
    identifier,
    token('type', 'The kind of members', 'type'),
    {
      name: 'member',
      type: 'reference',
      description: 'A member (member.entity)',
      targets: GROUP_MEMBER_TARGETS,
      extract: (r) =>
        referencesOf(asList(r['member']).map((m) => field(m, 'entity'))).filter((ref) =>
          GROUP_MEMBER_TARGETS.some((t) => ref.startsWith(`${t}/`)),
        ),
    },
  ],
  Subscription: [status, token('criteria', 'The criteria, exactly as registered', 'criteria')],
  // Written by the notification inbox, never by clients: the PCP's notices about a patient.
  Communication: [
    patientParam,
    status,
    category,
    reference('recipient', 'Who the notice is for', 'recipient', COMMUNICATION_RECIPIENTS),
  ],
  Provenance: [
    {
      name: 'patient',
      type: 'reference',
      description: 'The patient among the targets',
      targets: ['Patient'],
      extract: (r) => referencesTo('Patient', r['target']),
    },
  ],
};

function paramsFor(type: string): readonly SearchParamDefinition[] {
  const specific = SPECIFIC[type] ?? [];
  const needsPatient =
    PATIENT_COMPARTMENT_TYPES.includes(type) && !specific.some((p) => p.name === 'patient');
  return needsPatient ? [patientParam, ...specific] : specific;
}

/** Every type the /fhir API reads and searches. */
export const SUPPORTED_TYPES: readonly string[] = [
  ...new Set([
    'Patient',
    'Practitioner',
    'PractitionerRole',
    'Organization',
    'Location',
    'Endpoint',
    'Group',
    'Subscription',
    'Communication',
    ...PATIENT_COMPARTMENT_TYPES,
  ]),
].sort();

/** The search parameters of `type` (besides `_id` and `_lastUpdated`, which every type has). */
export const SEARCH_PARAMS: Readonly<Record<string, readonly SearchParamDefinition[]>> = Object.fromEntries(
  SUPPORTED_TYPES.map((type) => [type, paramsFor(type)]),
);

/** Parameter aliases: `subject` reads as `patient` (the app and notifications use both). */
export const PARAM_ALIASES: Readonly<Record<string, string>> = { subject: 'patient' };

/** The definition of `name` (after aliasing) on `type`, if supported. */
export function findSearchParam(type: string, name: string): SearchParamDefinition | undefined {
  const canonical = PARAM_ALIASES[name] ?? name;
  return SEARCH_PARAMS[type]?.find((p) => p.name === canonical);
}

/** True when the /fhir API serves `type`. */
export function isSupportedType(type: string): boolean {
  return Object.hasOwn(SEARCH_PARAMS, type);
}
