/**
 * Small builders for the FHIR the mapper emits (deterministic ids, PUT entries), so the store
 * and API tests read as scenarios rather than JSON.
 */
import { expect } from 'vitest';
import { isFhirStoreError } from '../../engine/src/store/fhir-store-error';
import type { FhirResource, TransactionBundle } from '../../engine/src/store/fhir-types';

export const MRN_SYSTEM = 'urn:oid:2.16.840.1.113883.3.1.1';
export const LOINC = 'http://loinc.org';
const CLASS_SYSTEM = 'http://terminology.hl7.org/CodeSystem/v3-ActCode';
const CATEGORY_SYSTEM = 'http://terminology.hl7.org/CodeSystem/observation-category';

/** A transaction Bundle of PUT entries, with `urn:uuid:` fullUrls like the mapper's. */
export function transaction(...resources: FhirResource[]): TransactionBundle {
  return {
    resourceType: 'Bundle',
    type: 'transaction',
    entry: resources.map((resource) => ({
      fullUrl: `urn:uuid:${resource.resourceType}-${resource.id ?? ''}`,
      resource,
      request: { method: 'PUT', url: `${resource.resourceType}/${resource.id ?? ''}` },
    })),
  };
}

/** A Patient with one MRN. */
export function patient(id: string, mrn: string, extra: Record<string, unknown> = {}): FhirResource {
  return {
    resourceType: 'Patient',
    id,
    identifier: [{ system: MRN_SYSTEM, value: mrn }],
    name: [{ family: 'Müller', given: ['Anna'] }],
    birthDate: '1970-05-01',
    gender: 'female',
    ...extra,
  };
}

/** An Encounter of `patientId` starting at `start` (open when `end` is undefined). */
export function encounter(
  id: string,
  patientId: string,
  start: string,
  options: { end?: string; status?: string; cls?: string } = {},
): FhirResource {
  return {
    resourceType: 'Encounter',
    id,
    status: options.status ?? (options.end === undefined ? 'in-progress' : 'finished'),
    class: { system: CLASS_SYSTEM, code: options.cls ?? 'IMP' },
    subject: { reference: `Patient/${patientId}` },
    period: { start, ...(options.end === undefined ? {} : { end: options.end }) },
  };
}

/** A laboratory Observation with a LOINC code. */
export function observation(
  id: string,
  patientId: string,
  loinc: string,
  effective: string,
  extra: Record<string, unknown> = {},
): FhirResource {
  return {
    resourceType: 'Observation',
    id,
    status: 'final',
    category: [{ coding: [{ system: CATEGORY_SYSTEM, code: 'laboratory' }] }],
    code: { coding: [{ system: LOINC, code: loinc }] },
    subject: { reference: `Patient/${patientId}` },
    effectiveDateTime: effective,
    valueQuantity: { value: 5.1, unit: 'mmol/L', system: 'http://unitsofmeasure.org', code: 'mmol/L' },
    ...extra,
  };
}

/** A DiagnosticReport over the given Observations. */
export function report(id: string, patientId: string, observationIds: readonly string[]): FhirResource {
  return {
    resourceType: 'DiagnosticReport',
    id,
    status: 'final',
    code: { coding: [{ system: LOINC, code: '24323-8' }] },
    subject: { reference: `Patient/${patientId}` },
    effectiveDateTime: '2024-03-01T08:00:00Z',
    result: observationIds.map((o) => ({ reference: `Observation/${o}` })),
  };
}

/** Asserts `promise` rejects with a FhirStoreError of `code` (and `expression`, when given). */
export async function expectStoreError(
  promise: Promise<unknown>,
  code: string,
  expression?: string,
): Promise<void> {
  const err: unknown = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(isFhirStoreError(err), String(err)).toBe(true);
  if (!isFhirStoreError(err)) return;
  expect(err.code).toBe(code);
  if (expression !== undefined) expect(err.expression).toBe(expression);
}
