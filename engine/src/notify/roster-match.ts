/**
 * Rosters meet identity here: each row is matched to a person with the linker's own scoring
 * (matchDemographics), and notification asks which roster rows attribute a patient to whom.
 * A roster row is only as good as its match: only `matched` rows attribute, so a review-grade
 * row, or a twin's, notifies nobody.
 */
import { demographicsOf, type Demographics } from '../identity/demographics';
import { readRecord } from '../identity/identity-store';
import type { IdentityRules } from '../identity/link-patient';
import {
  matchDemographics,
  matchDemographicsMany,
  matchKeys,
  type DemographicMatch,
} from '../identity/match-demographics';
import { outcomeOf } from '../identity/match-model';
import { decidePersonMatch } from '../identity/person-match-decision';
import { scorePair } from '../identity/score-pair';
import type { Db, Queryable } from '../store/db';
import { asList, asString, field, type JsonObject } from '../store/fhir-json';
import { parseSearchQuery } from '../store/fhir-search-query';
import { searchResources } from '../store/fhir-search';
import type { InvalidRosterRow, ParsedRoster, RosterRow } from './roster-csv';
import {
  matchedMembersOf,
  replaceRoster,
  unmatchedMembersByKeys,
  type RosterMember,
  type RosterMemberWrite,
  type RosterStatus,
} from './roster-store';

export const NPI_SYSTEM = 'http://hl7.org/fhir/sid/us-npi';

/** One roster row that attributes a patient. */
export interface RosterAttribution {
  /** `Group/<id>` or `csv:Organization/<id>`. */
  readonly roster: string;
  readonly organization?: string;
  readonly practitionerNpi?: string;
  /** `Practitioner/<id>` or `PractitionerRole/<id>`. */
  readonly practitioner?: string;
  readonly row: number;
  /**
   * `person`: the row was matched to the patient's person when stored. `rematch`: the row
   * matched nobody then (it came before the patient's first message) and matches the patient now.
   */
  readonly via: 'person' | 'rematch';
}

/** What a row's candidates add up to. */
export interface RosterDecision {
  readonly status: RosterStatus;
  /** The person matched, or for review the best candidate's (never shown, never attributed). */
  readonly personId?: string;
  readonly patientId?: string;
  readonly weight?: number;
}

/**
 * The person a row belongs to, by linking's rules: the person holding the row's identifier
 * (unless the demographics say twin or household, or score below review), else a person whose
 * best record scores a link. One such person is `matched`; two are ambiguous and go to
 * `review`, as does any candidate that scores between the thresholds.
 */
export function decideRosterMatch(
  matches: readonly DemographicMatch[],
  rules: IdentityRules,
): RosterDecision {
  const decision = decidePersonMatch(matches, rules);
  const decided = (status: RosterStatus, m: DemographicMatch): RosterDecision => ({
    status,
    personId: m.personId,
    patientId: m.patientId,
    weight: m.weight,
  });
  switch (decision.kind) {
    case 'matched':
      return decided('matched', decision.match);
    case 'ambiguous':
    case 'review': {
      const [best] = decision.candidates;
      return best === undefined ? { status: 'unmatched' } : decided('review', best);
    }
    case 'none':
      return { status: 'unmatched' };
  }
}

/** A CSV row as the minimal Patient matching reads, which is also what the row stores. */
export function rosterPatient(row: RosterRow): JsonObject {
  return {
    resourceType: 'Patient',
    name: [{ family: row.family, given: row.given }],
    birthDate: row.birthDate,
    gender: row.gender,
    address: [{ postalCode: row.postalCode }],
    ...(row.phone !== undefined ? { telecom: [{ system: 'phone', value: row.phone }] } : {}),
    ...(row.identifier !== undefined ? { identifier: [row.identifier] } : {}),
  };
}

/** A row's identifier counts as naming its person: the practice says whose it is. */
const ROSTER_MATCH = { anyIdentifier: true } as const;

/** Decisions and blocking keys of minimal Patients, in order. */
export async function matchRosterPatients(
  tx: Queryable,
  patients: readonly JsonObject[],
  rules: IdentityRules,
): Promise<{ decision: RosterDecision; blockKeys: string[] }[]> {
  const demographics = patients.map((p) => demographicsOf({ ...p, id: '' }));
  const matches = await matchDemographicsMany(tx, demographics, rules, ROSTER_MATCH);
  return demographics.map((d, i) => ({
    decision: decideRosterMatch(matches[i] ?? [], rules),
    blockKeys: matchKeys(d, rules, ROSTER_MATCH),
  }));
}

/** The Practitioner of each NPI, when exactly one stored Practitioner carries it. */
export async function practitionersByNpi(
  db: Queryable,
  npis: readonly string[],
): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for (const npi of new Set(npis)) {
    const found = await searchResources(
      db,
      parseSearchQuery('Practitioner', [
        ['identifier', `${NPI_SYSTEM}|${npi}`],
        ['_count', '2'],
      ]),
    );
    const [only] = found.matches;
    if (found.total === 1 && only !== undefined) out.set(npi, `Practitioner/${only.id}`);
  }
  return out;
}

/** One row's outcome as the uploader sees it. */
export interface RosterRowResult {
  readonly row: number;
  readonly status: RosterStatus;
  /** Only for `matched`: a review candidate is no answer to give a practice. */
  readonly personId?: string;
  readonly weight?: number;
}

export interface CsvRosterResult {
  readonly roster: string;
  readonly organization: string;
  readonly rows: number;
  readonly matched: number;
  readonly review: number;
  readonly unmatched: number;
  readonly invalid: readonly InvalidRosterRow[];
  readonly results: readonly RosterRowResult[];
  /** Patients of matched rows, for the audit trail. */
  readonly patientIds: readonly string[];
}

/** The roster id of an organization's CSV uploads. */
export const csvRosterId = (organization: string): string => `csv:${organization}`;

/**
 * Matches a parsed CSV roster and stores it in place of the organization's previous upload.
 * Matching reads outside the write transaction, so a large roster never holds the embedded
 * store's one connection in a transaction while it is scored; the replacement is one commit.
 */
export async function storeCsvRoster(
  db: Db,
  organization: string,
  parsed: ParsedRoster,
  rules: IdentityRules,
): Promise<CsvRosterResult> {
  const roster = csvRosterId(organization);
  const patients = parsed.rows.map(rosterPatient);
  const matched = await matchRosterPatients(db, patients, rules);
  const practitioners = await practitionersByNpi(
    db,
    parsed.rows.flatMap((r) => (r.npi === undefined ? [] : [r.npi])),
  );
  const members: RosterMemberWrite[] = parsed.rows.map((r, i) => {
    const m = matched[i];
    const d = m?.decision ?? { status: 'unmatched' };
    const practitioner = r.npi === undefined ? undefined : practitioners.get(r.npi);
    return {
      row: r.row,
      basis: 'demographics',
      demographics: patients[i] ?? {},
      blockKeys: m?.blockKeys ?? [],
      status: d.status,
      ...(r.npi !== undefined ? { practitionerNpi: r.npi } : {}),
      ...(practitioner !== undefined ? { practitioner } : {}),
      ...(d.personId !== undefined ? { personId: d.personId } : {}),
      ...(d.patientId !== undefined ? { patientId: d.patientId } : {}),
      ...(d.weight !== undefined ? { weight: d.weight } : {}),
    };
  });
  await db.transaction((tx) => replaceRoster(tx, roster, organization, members));
  const count = (s: RosterStatus): number => members.filter((m) => m.status === s).length;
  return {
    roster,
    organization,
    rows: parsed.rows.length + parsed.invalid.length,
    matched: count('matched'),
    review: count('review'),
    unmatched: count('unmatched'),
    invalid: parsed.invalid,
    results: members.map((m) => ({
      row: m.row,
      status: m.status,
      ...(m.status === 'matched' && m.personId !== undefined ? { personId: m.personId } : {}),
      ...(m.status !== 'unmatched' && m.weight !== undefined ? { weight: m.weight } : {}),
    })),
    patientIds: [
      ...new Set(members.flatMap((m) => (m.status === 'matched' && m.patientId ? [m.patientId] : []))),
    ],
  };
}

function attribution(m: RosterMember, via: RosterAttribution['via']): RosterAttribution {
  return {
    roster: m.roster,
    row: m.row,
    via,
    ...(m.organization !== undefined ? { organization: m.organization } : {}),
    ...(m.practitionerNpi !== undefined ? { practitionerNpi: m.practitionerNpi } : {}),
    ...(m.practitioner !== undefined ? { practitioner: m.practitioner } : {}),
  };
}

const identifierKey = (i: unknown): string =>
  `${asString(field(i, 'system')) ?? ''}|${asString(field(i, 'value')) ?? ''}`;

/**
 * True when an unmatched row, stored before `patient`'s record existed, now matches it: the
 * row's whole decision is taken again against today's records (so a row that now also fits
 * another person stays unattributed), and must land on the patient's person.
 */
async function matchesNow(
  tx: Queryable,
  m: RosterMember,
  patient: { readonly d: Demographics; readonly personId: string },
  rules: IdentityRules,
): Promise<boolean> {
  if (m.basis === 'reference') return m.patientId === patient.d.patientId;
  const claimed = new Set(asList(field(m.demographics, 'identifier')).map(identifierKey));
  const carries = patient.d.identifiers.some((i) => claimed.has(`${i.system}|${i.value}`));
  if (m.basis === 'identifier') return carries;
  const row = demographicsOf({ ...(m.demographics ?? {}), id: '' });
  // A cheap look first: most rows sharing a key with the patient are someone else.
  if (!carries && outcomeOf(scorePair(row, patient.d), rules.thresholds) === 'apart') return false;
  const decision = decideRosterMatch(await matchDemographics(tx, row, rules, ROSTER_MATCH), rules);
  return decision.status === 'matched' && decision.personId === patient.personId;
}

/**
 * The roster rows that attribute `patientId`: rows matched to its person (or to a person since
 * merged into it), and rows that matched nobody when stored but match this patient now.
 * Read-only: a rematch is decided afresh on every call, never written back.
 * @returns empty for a patient with no identity record (not linked yet).
 */
export async function rosterAttributions(
  tx: Queryable,
  patientId: string,
  rules: IdentityRules,
): Promise<RosterAttribution[]> {
  const record = await readRecord(tx, patientId);
  if (record === undefined) return [];
  const out = (await matchedMembersOf(tx, record.personId)).map((m) => attribution(m, 'person'));
  const d = record.demographics;
  const keys = [...matchKeys(d, rules, ROSTER_MATCH), `pt:${patientId}`];
  for (const m of await unmatchedMembersByKeys(tx, keys)) {
    if (await matchesNow(tx, m, { d, personId: record.personId }, rules)) out.push(attribution(m, 'rematch'));
  }
  return out;
}
