/**
 * From attributed PCPs to the practices that registered to hear about them. Practitioners are
 * matched by NPI, not by resource id: a hospital's Practitioner and the practice's own are two
 * resources for one person. A PractitionerRole names the practitioner (by reference, or
 * logically by NPI identifier), the practice (Organization) and where notices go (Endpoint);
 * a role with no endpoint of its own uses its organization's.
 *
 * Hospital feeds write PractitionerRoles too (ROL, PRT), and those name the same practitioners by
 * the same NPIs. Only a role a practice registered through the API gets an inbox entry: nobody
 * reads the inbox of a role a hospital message made. A role from a message still counts when it
 * reaches an endpoint (its own or its organization's), since someone registered that endpoint.
 */
import type { Queryable } from '../store/db';
import type { JsonObject } from '../store/fhir-json';
import { isFromApi } from '../store/fhir-direct-write';
import type { NoticeReason } from '../store/notification-store';
import { NPI_SYSTEM, type Attribution } from './attribution';

/** Endpoint.connectionType codes the engine delivers to. */
export const CONNECTION_TYPE_SYSTEM = 'http://terminology.hl7.org/CodeSystem/endpoint-connection-type';
export const WEBHOOK_CONNECTION_SYSTEM =
  'https://care-coordination.org/fhir/CodeSystem/endpoint-connection-type';

export type EndpointChannel = 'davinci' | 'webhook';

export interface DirectoryEndpoint {
  readonly ref: string;
  readonly channel: EndpointChannel;
}

/** One registered practice role that is to be told, and why. */
export interface RegisteredRecipient {
  /** `PractitionerRole/<id>`, or `Organization/<id>` for a roster that names only the practice. */
  readonly target: string;
  readonly practitioner?: string;
  readonly organization?: string;
  readonly endpoints: readonly DirectoryEndpoint[];
  /** True for a role registered through the API: it gets an inbox entry (a roster's practice never does). */
  readonly inbox: boolean;
  readonly reasons: readonly NoticeReason[];
}

interface ResourceRow {
  id: string;
  resource: JsonObject;
}

function refOf(v: unknown): string | undefined {
  if (typeof v !== 'object' || v === null) return undefined;
  const r = (v as JsonObject)['reference'];
  return typeof r === 'string' ? r : undefined;
}

function refsOf(v: unknown): string[] {
  return (Array.isArray(v) ? v : []).map(refOf).filter((r): r is string => r !== undefined);
}

function idsOf(refs: Iterable<string>, type: string): string[] {
  return [...new Set([...refs].filter((r) => r.startsWith(`${type}/`)).map((r) => r.slice(type.length + 1)))];
}

async function readCurrent(tx: Queryable, type: string, ids: readonly string[]): Promise<ResourceRow[]> {
  if (ids.length === 0) return [];
  return tx.query<ResourceRow>(
    `SELECT id, resource FROM fhir_resources WHERE resource_type = $1 AND id = ANY($2::text[]) AND NOT deleted`,
    [type, ids],
    { prepared: true },
  );
}

/** The channel an Endpoint's connectionType asks for, or undefined when the engine has none for it. */
export function channelOf(endpoint: JsonObject): EndpointChannel | undefined {
  const ct = endpoint['connectionType'];
  if (typeof ct !== 'object' || ct === null) return undefined;
  const { system, code } = ct as JsonObject;
  if (system === CONNECTION_TYPE_SYSTEM && code === 'hl7-fhir-msg') return 'davinci';
  if (system === WEBHOOK_CONNECTION_SYSTEM && code === 'webhook') return 'webhook';
  return undefined;
}

function npiOfLogical(role: JsonObject): string | undefined {
  const p = role['practitioner'];
  if (typeof p !== 'object' || p === null) return undefined;
  const id = (p as JsonObject)['identifier'];
  if (typeof id !== 'object' || id === null) return undefined;
  const { system, value } = id as JsonObject;
  return system === NPI_SYSTEM && typeof value === 'string' ? value : undefined;
}

/**
 * The registered roles (and rostered practices) the attributions reach, each with its active
 * endpoints the engine can deliver to. Attributions to nobody registered reach no one.
 */
export async function findRecipients(
  tx: Queryable,
  attributions: readonly Attribution[],
): Promise<RegisteredRecipient[]> {
  if (attributions.length === 0) return [];
  const npis = [...new Set(attributions.flatMap((a) => (a.npi !== undefined ? [a.npi] : [])))];
  const directRefs = new Set(attributions.flatMap((a) => (a.ref !== undefined ? [a.ref] : [])));
  // Every Practitioner carrying one of the NPIs: the practice's own among them.
  const withNpi =
    npis.length === 0
      ? []
      : await tx.query<{ id: string; value: string }>(
          `SELECT DISTINCT id, value FROM fhir_search_index
            WHERE resource_type = 'Practitioner' AND param = 'identifier' AND system = $1 AND value = ANY($2::text[])`,
          [NPI_SYSTEM, npis],
          { prepared: true },
        );
  const npiOfPractitioner = new Map<string, string>(withNpi.map((r) => [`Practitioner/${r.id}`, r.value]));
  const practitionerRefs = [
    ...new Set([
      ...npiOfPractitioner.keys(),
      ...idsOf(directRefs, 'Practitioner').map((id) => `Practitioner/${id}`),
    ]),
  ];
  const roleIds = await tx.query<{ id: string }>(
    `SELECT DISTINCT id FROM fhir_search_index
      WHERE resource_type = 'PractitionerRole'
        AND ((param = 'practitioner' AND reference = ANY($1::text[]))
          OR (param = 'practitioner-identifier' AND system = $2 AND value = ANY($3::text[])))`,
    [practitionerRefs, NPI_SYSTEM, npis],
    { prepared: true },
  );
  const roles = await readCurrent(tx, 'PractitionerRole', [
    ...new Set([...roleIds.map((r) => r.id), ...idsOf(directRefs, 'PractitionerRole')]),
  ]);
  const activeRoles = roles.filter((r) => r.resource['active'] !== false);
  const orgIds = new Set([
    ...activeRoles.flatMap((r) => idsOf(refsOf([r.resource['organization']]), 'Organization')),
    ...idsOf(directRefs, 'Organization'),
  ]);
  const orgs = new Map(
    (await readCurrent(tx, 'Organization', [...orgIds])).map((o) => [`Organization/${o.id}`, o.resource]),
  );
  const endpointIds = new Set([
    ...activeRoles.flatMap((r) => idsOf(refsOf(r.resource['endpoint']), 'Endpoint')),
    ...[...orgs.values()].flatMap((o) => idsOf(refsOf(o['endpoint']), 'Endpoint')),
  ]);
  const endpoints = new Map<string, EndpointChannel>();
  for (const e of await readCurrent(tx, 'Endpoint', [...endpointIds])) {
    const channel = channelOf(e.resource);
    if (e.resource['status'] === 'active' && channel !== undefined) {
      endpoints.set(`Endpoint/${e.id}`, channel);
    }
  }
  const endpointsOf = (refs: readonly string[]): DirectoryEndpoint[] =>
    refs.flatMap((ref) => {
      const channel = endpoints.get(ref);
      return channel === undefined ? [] : [{ ref, channel }];
    });

  const out: RegisteredRecipient[] = [];
  for (const role of activeRoles) {
    const practitioner = refOf(role.resource['practitioner']);
    const npi =
      (practitioner !== undefined ? npiOfPractitioner.get(practitioner) : undefined) ??
      npiOfLogical(role.resource);
    const organization = refOf(role.resource['organization']);
    const reasons = attributions
      .filter(
        (a) =>
          (npi !== undefined && a.npi === npi) ||
          (a.ref !== undefined && (a.ref === practitioner || a.ref === `PractitionerRole/${role.id}`)),
      )
      .map((a) => a.reason);
    if (reasons.length === 0) continue;
    const own = refsOf(role.resource['endpoint']);
    const org = organization !== undefined ? orgs.get(organization) : undefined;
    const reached = endpointsOf(own.length > 0 ? own : refsOf(org?.['endpoint']));
    const registered = isFromApi(role.resource);
    // A role mapped from a hospital message that reaches no endpoint would only fill an unread inbox.
    if (!registered && reached.length === 0) continue;
    out.push({
      target: `PractitionerRole/${role.id}`,
      ...(practitioner !== undefined ? { practitioner } : {}),
      ...(organization !== undefined ? { organization } : {}),
      endpoints: reached,
      inbox: registered,
      reasons: dedupeReasons(reasons),
    });
  }
  // A roster that names only the practice reaches the practice's endpoints.
  for (const orgId of idsOf(directRefs, 'Organization')) {
    const ref = `Organization/${orgId}`;
    const org = orgs.get(ref);
    if (org === undefined || org['active'] === false) continue;
    const reasons = attributions.filter((a) => a.ref === ref && a.npi === undefined).map((a) => a.reason);
    if (reasons.length === 0) continue;
    out.push({
      target: ref,
      organization: ref,
      endpoints: endpointsOf(refsOf(org['endpoint'])),
      inbox: false,
      reasons: dedupeReasons(reasons),
    });
  }
  return out;
}

function dedupeReasons(reasons: readonly NoticeReason[]): NoticeReason[] {
  const seen = new Map<string, NoticeReason>();
  for (const r of reasons) seen.set(`${r.source}|${r.practitioner ?? ''}|${r.via}`, r);
  return [...seen.values()];
}
