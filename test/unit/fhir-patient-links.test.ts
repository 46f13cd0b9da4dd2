// A merge finds what to move through the search index and rewrites elements named in another
// table (fhir-patient-links.ts): these cases keep the two in step, and pin what a Coverage moves.
import { describe, expect, it } from 'vitest';
import { repointBody } from '../../engine/src/identity/patient-merge';
import { isInPatientCompartment, patientIdsOf } from '../../engine/src/store/fhir-compartment';
import { patientLinksOf } from '../../engine/src/store/fhir-patient-links';
import { extractIndexRows } from '../../engine/src/store/fhir-search-index';
import { PATIENT_COMPARTMENT_TYPES } from '../../engine/src/store/fhir-search-params';

const ref = (id: string): { reference: string } => ({ reference: `Patient/${id}` });

describe('patient links', () => {
  it('index every linked element under the parameter a merge looks it up by', () => {
    for (const type of PATIENT_COMPARTMENT_TYPES) {
      for (const link of patientLinksOf(type)) {
        const rows = extractIndexRows(type, { resourceType: type, id: 'x', [link.element]: [ref('m')] });
        expect(rows, `${type}.${link.element}`).toContainEqual(
          expect.objectContaining({ param: link.param, reference: 'Patient/m' }),
        );
      }
    }
  });

  it("move a Coverage's beneficiary, subscriber, policy holder and payor, nothing else", () => {
    const coverage = {
      resourceType: 'Coverage',
      id: 'c1',
      beneficiary: ref('m'),
      subscriber: ref('m'),
      policyHolder: { reference: 'Organization/employer' },
      payor: [{ reference: 'Organization/bcbs' }, ref('m')],
      contract: [ref('m')],
    };
    expect(repointBody(coverage, 'm', 's')).toEqual({
      ...coverage,
      beneficiary: ref('s'),
      subscriber: ref('s'),
      payor: [{ reference: 'Organization/bcbs' }, ref('s')],
    });
  });

  it("make a Coverage its beneficiary's, not its subscriber's", () => {
    const child = {
      resourceType: 'Coverage',
      id: 'c2',
      beneficiary: ref('child'),
      subscriber: ref('parent'),
    };
    expect(patientIdsOf('Coverage', child)).toEqual(['child']);
    expect(isInPatientCompartment('Coverage', child, new Set(['child']))).toBe(true);
    expect(isInPatientCompartment('Coverage', child, new Set(['parent']))).toBe(false);
  });
});
