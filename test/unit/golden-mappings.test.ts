/**
 * The golden examples in mappings/tests, table-driven: each message must map to exactly the
 * Bundle beside it, and that Bundle must be valid FHIR R4, each Patient, Encounter, Condition,
 * AllergyIntolerance and lab or vital-sign Observation meeting its US Core 5.0.1 profile.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { listGoldenCases, mapGoldenCase } from '../../engine/src/cli/golden-cases';
import type { MappingSet } from '../../engine/src/mapping/mapping-types';
import { createUsCoreValidator } from '../helpers/us-core-validator';
import { createFhirValidator, danglingReferences, loadSet, MAPPINGS_DIR } from './mapping-test-support';

const TESTS_DIR = path.join(MAPPINGS_DIR, 'tests');
const cases = await listGoldenCases(TESTS_DIR);
const validate = createFhirValidator();
const validateUsCore = await createUsCoreValidator();

describe('golden mapping examples', () => {
  let set: MappingSet;
  beforeAll(async () => {
    set = await loadSet();
  });

  it('cover every base message type', () => {
    const types = cases.map((c) => c.replace(/^northwind-/, ''));
    for (const e of [
      'a01',
      'a02',
      'a03',
      'a04',
      'a05',
      'a06',
      'a07',
      'a08',
      'a11',
      'a12',
      'a13',
      'a28',
      'a31',
      'a40',
      ...['a09', 'a10', 'a14', 'a15', 'a16', 'a25', 'a26', 'a27', 'a29'],
      ...['a34', 'a35', 'a36', 'a41', 'a42', 'a44', 'a45', 'a47', 'a60'],
    ]) {
      expect(types).toContain(`adt-${e}`);
    }
    expect(types).toContain('oru-r01');
    expect(types).toContain('mdm-t02');
  });

  it.each(cases)('%s maps to its .fhir.json', async (name) => {
    const expected: unknown = JSON.parse(readFileSync(path.join(TESTS_DIR, `${name}.fhir.json`), 'utf8'));
    const actual = await mapGoldenCase(TESTS_DIR, name, set);
    expect(actual).toEqual(expected);
    // An example of an event ignored on purpose holds `{ignored: reason}`: no resources to check.
    const entries = (actual as { entry?: { resource: { resourceType: string } }[] }).entry ?? [];
    for (const entry of entries) {
      expect(validate(entry.resource)).toBeUndefined();
      expect(validateUsCore(entry.resource)?.issues ?? [], entry.resource.resourceType).toEqual([]);
    }
    expect(danglingReferences({ entry: entries })).toEqual([]);
  });
});
