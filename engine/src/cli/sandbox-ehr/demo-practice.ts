/**
 * Registers the demo PCP's practice with the engine: an Endpoint for Da Vinci notifications, the
 * Organization that lists it, and a PractitionerRole naming the PCP by NPI (a logical reference),
 * which is what the hospitals' PD1-4 carry. Written through the store's direct-write path (the
 * one POST /fhir uses) with fixed ids, so a second demo run against the same PostgreSQL updates
 * them instead of registering the practice twice. The FHIR write API is not used because, with
 * the embedded store, its audit write waits on the write's own open transaction.
 */
import { randomUUID } from 'node:crypto';
import type { Db } from '../../store/db';
import { writeDirect } from '../../store/fhir-direct-write';
import type { JsonObject } from '../../store/fhir-json';
import type { DemoPractitioner } from './demo-patients';

const NPI_SYSTEM = 'http://hl7.org/fhir/sid/us-npi';
/** `meta.source` of what the demo writes: `urn:care:api:demo`. */
const DEMO_CLIENT_ID = 'demo';

export interface DemoPractice {
  readonly organization: string;
  readonly role: string;
  /** undefined when the practice has no endpoint (inbox only). */
  readonly endpoint?: string;
}

async function put(db: Db, type: string, id: string, body: JsonObject): Promise<string> {
  const result = await db.transaction((tx) =>
    writeDirect(
      tx,
      { kind: 'update', type, id, body: { resourceType: type, id, ...body }, mayCreate: true },
      { clientId: DEMO_CLIENT_ID, requestId: randomUUID() },
    ),
  );
  if (!result.ok) throw new Error(`registering ${type}/${id} was refused: ${result.message}`);
  return `${type}/${id}`;
}

/**
 * Writes the practice's resources.
 * @param db - the engine's store.
 * @param practitioner - the PCP.
 * @param address - the Da Vinci Endpoint's base URL, or undefined for none (inbox only).
 */
export async function registerDemoPractice(
  db: Db,
  practitioner: DemoPractitioner,
  address: string | undefined,
): Promise<DemoPractice> {
  const endpoint =
    address === undefined
      ? undefined
      : await put(db, 'Endpoint', 'demo-practice-endpoint', {
          status: 'active',
          name: `${practitioner.practice} notifications`,
          connectionType: {
            system: 'http://terminology.hl7.org/CodeSystem/endpoint-connection-type',
            code: 'hl7-fhir-msg',
          },
          payloadType: [
            {
              coding: [
                { system: 'http://terminology.hl7.org/CodeSystem/endpoint-payload-type', code: 'any' },
              ],
            },
          ],
          address,
        });
  const organization = await put(db, 'Organization', 'demo-practice', {
    active: true,
    name: practitioner.practice,
    ...(endpoint !== undefined ? { endpoint: [{ reference: endpoint }] } : {}),
  });
  const role = await put(db, 'PractitionerRole', 'demo-practice-pcp', {
    active: true,
    practitioner: {
      identifier: { system: NPI_SYSTEM, value: practitioner.npi },
      display: `Dr. ${practitioner.given} ${practitioner.family}`,
    },
    organization: { reference: organization },
  });
  return { organization, role, ...(endpoint !== undefined ? { endpoint } : {}) };
}
