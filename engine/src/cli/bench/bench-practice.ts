/**
 * Registers the practice a benchmark notifies, the way a practice registers: an Endpoint for Da
 * Vinci messages, the Organization that lists it, and a PractitionerRole naming the PCP by NPI
 * only (a logical reference), since the practice has no Practitioner of the hospital's.
 */

/** The scopes registration needs. */
export const PRACTICE_REGISTRATION_SCOPE =
  'system/Endpoint.cud system/Organization.cud system/PractitionerRole.cud';

export interface RegisteredPractice {
  readonly endpoint: string;
  readonly organization: string;
  readonly role: string;
}

async function create(baseUrl: string, token: string, resource: Record<string, unknown>): Promise<string> {
  const type = String(resource['resourceType']);
  const res = await fetch(`${baseUrl}/fhir/${type}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/fhir+json' },
    body: JSON.stringify(resource),
  });
  const text = await res.text();
  if (res.status !== 201) throw new Error(`POST /fhir/${type} answered ${res.status}: ${text.slice(0, 500)}`);
  const id = (JSON.parse(text) as { id?: unknown }).id;
  if (typeof id !== 'string') throw new Error(`POST /fhir/${type} returned no id`);
  return `${type}/${id}`;
}

/**
 * POSTs the three resources.
 * @param baseUrl - the engine's PUBLIC_URL.
 * @param token - a system token with PRACTICE_REGISTRATION_SCOPE.
 * @param address - the Endpoint's base; notices go to `${address}/$process-message`.
 * @param npi - the PCP's NPI.
 */
export async function registerPractice(
  baseUrl: string,
  token: string,
  address: string,
  npi: string,
): Promise<RegisteredPractice> {
  const endpoint = await create(baseUrl, token, {
    resourceType: 'Endpoint',
    status: 'active',
    connectionType: {
      system: 'http://terminology.hl7.org/CodeSystem/endpoint-connection-type',
      code: 'hl7-fhir-msg',
    },
    payloadType: [
      { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/endpoint-payload-type', code: 'any' }] },
    ],
    address,
  });
  const organization = await create(baseUrl, token, {
    resourceType: 'Organization',
    name: 'Bench Family Practice',
    endpoint: [{ reference: endpoint }],
  });
  const role = await create(baseUrl, token, {
    resourceType: 'PractitionerRole',
    active: true,
    practitioner: { identifier: { system: 'http://hl7.org/fhir/sid/us-npi', value: npi } },
    organization: { reference: organization },
  });
  return { endpoint, organization, role };
}
