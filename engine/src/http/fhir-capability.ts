/**
 * The CapabilityStatement at `/fhir/metadata`, generated from the same SearchParam table the
 * store indexes with, so what the server advertises is exactly what it answers.
 */
import { capabilityTopicExtensions } from '../notify/subscription-topics';
import { isApiWritableType } from '../store/fhir-direct-write';
import { SEARCH_PARAMS, SUPPORTED_TYPES } from '../store/fhir-search-params';

const SMART_OAUTH_URIS = 'http://fhir-registry.smarthealthit.org/StructureDefinition/oauth-uris';
const SECURITY_SERVICE = 'http://terminology.hl7.org/CodeSystem/restful-security-service';

interface CapabilitySearchParam {
  readonly name: string;
  readonly type: string;
  readonly documentation: string;
}

function searchParamsOf(type: string): CapabilitySearchParam[] {
  const defs = SEARCH_PARAMS[type] ?? [];
  const common: CapabilitySearchParam[] = [
    { name: '_id', type: 'token', documentation: 'Logical id' },
    { name: '_lastUpdated', type: 'date', documentation: 'When the stored version was written' },
  ];
  const own = defs.map((d) => ({ name: d.name, type: d.type, documentation: d.description }));
  const alias = defs.some((d) => d.name === 'patient')
    ? [{ name: 'subject', type: 'reference', documentation: 'Alias of patient' }]
    : [];
  return [...common, ...own, ...alias];
}

/** What the registration types add (fhir-write-routes.ts). */
const WRITE_INTERACTIONS = [{ code: 'create' }, { code: 'update' }, { code: 'delete' }];
/** Plain writes, with update-as-create; no conditional ones. */
const WRITE_FLAGS = {
  updateCreate: true,
  conditionalCreate: false,
  conditionalUpdate: false,
  conditionalDelete: 'not-supported',
};

function resourceOf(type: string): Record<string, unknown> {
  const includes = (SEARCH_PARAMS[type] ?? [])
    .filter((d) => d.type === 'reference')
    .map((d) => `${type}:${d.name}`);
  const writable = isApiWritableType(type);
  const reads = [{ code: 'read' }, { code: 'vread' }, { code: 'history-instance' }, { code: 'search-type' }];
  return {
    type,
    versioning: 'versioned',
    readHistory: true,
    interaction: writable ? [...reads, ...WRITE_INTERACTIONS] : reads,
    ...(writable ? WRITE_FLAGS : {}),
    searchInclude: includes,
    searchParam: searchParamsOf(type),
  };
}

/** The Patient operations the identity routes serve (identity-fhir-routes.ts). */
const PATIENT_OPERATIONS = [
  { name: 'ihe-pix', definition: 'https://profiles.ihe.net/ITI/PIXm/OperationDefinition/IHE.PIXm.pix' },
  { name: 'match', definition: 'http://hl7.org/fhir/OperationDefinition/Patient-match' },
  { name: 'everything', definition: 'http://hl7.org/fhir/OperationDefinition/Patient-everything' },
];

/** The backport's Subscription operations (subscription-routes.ts). */
const SUBSCRIPTION_OPERATIONS = [
  {
    name: 'status',
    definition:
      'http://hl7.org/fhir/uv/subscriptions-backport/OperationDefinition/backport-subscription-status',
  },
  {
    name: 'events',
    definition:
      'http://hl7.org/fhir/uv/subscriptions-backport/OperationDefinition/backport-subscription-events',
  },
];

/** Person: built from the identity tables, so read and search by link only (no history). */
const PERSON_RESOURCE = {
  type: 'Person',
  interaction: [{ code: 'read' }, { code: 'search-type' }],
  searchParam: [
    { name: 'link', type: 'reference', documentation: 'A Patient the person links (Patient/{id})' },
    { name: 'patient', type: 'reference', documentation: 'Alias of link for Patient targets' },
  ],
};

/** What the router serves besides the stored types. */
export interface CapabilityOptions {
  /** The identity routes: Person, and PIXm, `$match` and `$everything` on Patient. */
  readonly identity: boolean;
}

/**
 * The server's CapabilityStatement: read, vread, history and search on each supported type
 * (create, update and delete on the registration types), protected by SMART on FHIR with the
 * token endpoint at `${baseUrl}/auth/token`.
 * @param baseUrl - the engine's public URL without a trailing slash.
 * @param date - when this statement was published (the engine's start time).
 */
export function buildCapabilityStatement(
  baseUrl: string,
  date: Date,
  options: CapabilityOptions = { identity: false },
): Record<string, unknown> {
  const stored = SUPPORTED_TYPES.map((type) => {
    const r = resourceOf(type);
    if (type === 'Subscription') {
      // The backport lists the topics a server offers on its Subscription resource.
      return { ...r, extension: capabilityTopicExtensions(), operation: SUBSCRIPTION_OPERATIONS };
    }
    return options.identity && type === 'Patient' ? { ...r, operation: PATIENT_OPERATIONS } : r;
  });
  const resources = options.identity
    ? [...stored, PERSON_RESOURCE].sort((a, b) => String(a['type']).localeCompare(String(b['type'])))
    : stored;
  return {
    resourceType: 'CapabilityStatement',
    status: 'active',
    date: date.toISOString(),
    kind: 'instance',
    software: { name: 'care-coordination engine' },
    implementation: { description: 'HL7 v2 ADT/ORU feeds as FHIR R4', url: `${baseUrl}/fhir` },
    fhirVersion: '4.0.1',
    format: ['application/fhir+json', 'json'],
    rest: [
      {
        mode: 'server',
        security: {
          service: [{ coding: [{ system: SECURITY_SERVICE, code: 'SMART-on-FHIR' }] }],
          extension: [
            { url: SMART_OAUTH_URIS, extension: [{ url: 'token', valueUri: `${baseUrl}/auth/token` }] },
          ],
        },
        resource: resources,
      },
    ],
  };
}
