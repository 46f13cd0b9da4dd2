/**
 * FHIR Group rosters in the Da Vinci Member Attribution (ATR) style: each `Group.member` is a
 * patient, its `ext-attributedProvider` the practitioner or organization it is attributed to.
 * Kept in `roster_members` beside CSV uploads, so attribution asks one table whatever the source.
 */
import type { IdentityRules } from '../identity/link-patient';
import { readRecord } from '../identity/identity-store';
import type { Queryable } from '../store/db';
import { asList, asObject, asString, field, type JsonObject } from '../store/fhir-json';
import { parseSearchQuery } from '../store/fhir-search-query';
import { searchResources } from '../store/fhir-search';
import { matchRosterPatients, NPI_SYSTEM } from './roster-match';
import { deleteRoster, replaceRoster, type RosterMemberWrite } from './roster-store';

export const ATR_GROUP_PROFILE = 'http://hl7.org/fhir/us/davinci-atr/StructureDefinition/atr-group';
export const ATTRIBUTED_PROVIDER_URL =
  'http://hl7.org/fhir/us/davinci-atr/StructureDefinition/ext-attributedProvider';

/** A member's patient, as the Group names it. */
type MemberEntity =
  | { readonly kind: 'reference'; readonly patientId: string }
  | { readonly kind: 'identifier'; readonly system: string; readonly value: string }
  | { readonly kind: 'demographics'; readonly patient: JsonObject }
  | { readonly kind: 'unreadable' };

/** Who a member is attributed to. */
interface Provider {
  readonly practitioner?: string;
  readonly practitionerNpi?: string;
  readonly organization?: string;
}

/** `Type/id` of a relative or absolute reference to one of `types`, else undefined. */
function referenceTo(ref: unknown, types: readonly string[]): string | undefined {
  const m = /(?:^|\/)([A-Za-z]+)\/([A-Za-z0-9\-.]{1,64})$/.exec(asString(field(ref, 'reference')) ?? '');
  return m !== null && m[1] !== undefined && types.includes(m[1]) ? `${m[1]}/${m[2] ?? ''}` : undefined;
}

/** The matching-relevant parts of a contained Patient: no more of its PHI is kept. */
function minimalPatient(p: JsonObject): JsonObject {
  const keep = ['name', 'birthDate', 'gender', 'address', 'telecom', 'identifier'] as const;
  const out: Record<string, unknown> = { resourceType: 'Patient' };
  for (const k of keep) if (p[k] !== undefined) out[k] = p[k];
  return out;
}

function entityOf(group: JsonObject, member: unknown): MemberEntity {
  const entity = field(member, 'entity');
  const ref = asString(field(entity, 'reference'));
  if (ref?.startsWith('#') === true) {
    const contained = asList(group['contained'])
      .map(asObject)
      .find((r) => r?.['resourceType'] === 'Patient' && r['id'] === ref.slice(1));
    return contained === undefined
      ? { kind: 'unreadable' }
      : { kind: 'demographics', patient: minimalPatient(contained) };
  }
  const patient = referenceTo(entity, ['Patient']);
  if (patient !== undefined) return { kind: 'reference', patientId: patient.slice('Patient/'.length) };
  const system = asString(field(field(entity, 'identifier'), 'system'));
  const value = asString(field(field(entity, 'identifier'), 'value'));
  if (system !== undefined && value !== undefined) return { kind: 'identifier', system, value };
  return { kind: 'unreadable' };
}

function providerOf(member: unknown): Provider {
  const ext = asList(field(member, 'extension')).find(
    (e) => asString(field(e, 'url')) === ATTRIBUTED_PROVIDER_URL,
  );
  const value = field(ext, 'valueReference');
  const identifier = field(value, 'identifier');
  const npi =
    asString(field(identifier, 'system')) === NPI_SYSTEM ? asString(field(identifier, 'value')) : undefined;
  const practitioner = referenceTo(value, ['Practitioner', 'PractitionerRole']);
  const organization = referenceTo(value, ['Organization']);
  return {
    ...(practitioner !== undefined ? { practitioner } : {}),
    ...(npi !== undefined && /^\d{10}$/.test(npi) ? { practitionerNpi: npi } : {}),
    ...(organization !== undefined ? { organization } : {}),
  };
}

/** Patient ids carrying identifier `system|value` exactly (not only as a type coding). */
async function patientsWithIdentifier(tx: Queryable, system: string, value: string): Promise<string[]> {
  const found = await searchResources(
    tx,
    parseSearchQuery('Patient', [
      ['identifier', `${system}|${value}`],
      ['_count', '50'],
    ]),
  );
  return found.matches
    .filter((p) =>
      asList(p.resource['identifier']).some(
        (i) => asString(field(i, 'system')) === system && asString(field(i, 'value')) === value,
      ),
    )
    .map((p) => p.id);
}

/** The persons of `patientIds` that have an identity record. */
async function personsOf(tx: Queryable, patientIds: readonly string[]): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for (const id of patientIds) {
    const record = await readRecord(tx, id);
    if (record !== undefined) out.set(id, record.personId);
  }
  return out;
}

/**
 * A member named by reference or identifier: matched when it names engine records of exactly
 * one person, else kept unmatched with a key that finds it when its patient arrives.
 */
async function memberByReference(
  tx: Queryable,
  entity: Extract<MemberEntity, { kind: 'reference' | 'identifier' }>,
): Promise<
  Pick<RosterMemberWrite, 'basis' | 'demographics' | 'blockKeys' | 'status' | 'personId' | 'patientId'>
> {
  const patientIds =
    entity.kind === 'reference'
      ? [entity.patientId]
      : await patientsWithIdentifier(tx, entity.system, entity.value);
  const persons = await personsOf(tx, patientIds);
  const [only, other] = new Set(persons.values());
  const first = [...persons.keys()][0];
  const found =
    only !== undefined && other === undefined && first !== undefined
      ? ({ status: 'matched', personId: only, patientId: first } as const)
      : ({ status: 'unmatched' } as const);
  return entity.kind === 'reference'
    ? { basis: 'reference', blockKeys: [`pt:${entity.patientId}`], patientId: entity.patientId, ...found }
    : {
        basis: 'identifier',
        demographics: {
          resourceType: 'Patient',
          identifier: [{ system: entity.system, value: entity.value }],
        },
        blockKeys: [`id:${entity.system}|${entity.value}`],
        ...found,
      };
}

/**
 * Rewrites the roster `Group/<groupId>` from the Group's current version: a member referencing
 * an engine Patient attributes that patient's person; a member given by identifier, the person
 * of the Patients carrying it; a member given as a contained Patient is matched on its
 * demographics like a CSV row. Inactive members are left out. Run in the transaction that
 * writes the Group, so the roster never disagrees with the stored Group.
 * @param group - the Group as stored; undefined when it was deleted (its roster goes too).
 * @returns how many members the roster now holds.
 */
export async function syncGroupRoster(
  tx: Queryable,
  groupId: string,
  group: JsonObject | undefined,
  rules: IdentityRules,
): Promise<number> {
  const roster = `Group/${groupId}`;
  if (group === undefined || group['resourceType'] !== 'Group') {
    await deleteRoster(tx, roster);
    return 0;
  }
  const managing = referenceTo(group['managingEntity'], ['Organization']);
  const members = asList(group['member'])
    .map((member, i) => ({ member, row: i + 1 }))
    .filter(({ member }) => field(member, 'inactive') !== true);
  const writes: RosterMemberWrite[] = [];
  const byDemographics: { readonly at: number; readonly patient: JsonObject }[] = [];
  for (const { member, row } of members) {
    const entity = entityOf(group, member);
    const provider = providerOf(member);
    const base = { row, ...provider };
    if (entity.kind === 'demographics') {
      byDemographics.push({ at: writes.length, patient: entity.patient });
      writes.push({
        ...base,
        basis: 'demographics',
        demographics: entity.patient,
        blockKeys: [],
        status: 'unmatched',
      });
    } else if (entity.kind === 'unreadable') {
      writes.push({ ...base, basis: 'reference', blockKeys: [], status: 'unmatched' });
    } else {
      writes.push({ ...base, ...(await memberByReference(tx, entity)) });
    }
  }
  const matched = await matchRosterPatients(
    tx,
    byDemographics.map((b) => b.patient),
    rules,
  );
  byDemographics.forEach(({ at }, i) => {
    const w = writes[at];
    const m = matched[i];
    if (w === undefined || m === undefined) return;
    const d = m.decision;
    writes[at] = {
      ...w,
      blockKeys: m.blockKeys,
      status: d.status,
      ...(d.personId !== undefined ? { personId: d.personId } : {}),
      ...(d.patientId !== undefined ? { patientId: d.patientId } : {}),
      ...(d.weight !== undefined ? { weight: d.weight } : {}),
    };
  });
  await replaceRoster(tx, roster, managing, writes);
  return writes.length;
}
