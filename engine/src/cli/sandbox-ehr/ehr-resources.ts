/**
 * The demo people as FHIR R4 resources, the way the PCP's EHR serves them: the practice's own
 * MRN, US Core-shaped demographics, and the practitioner identified by NPI, which is what the
 * engine matches against the hospitals' PD1-4.
 */
import type { DemoPatient, DemoPractitioner } from './demo-patients';

/** The sandbox practice's MRN namespace. */
export const EHR_MRN_SYSTEM = 'urn:oid:2.16.840.1.113883.3.7777.1';
export const NPI_SYSTEM = 'http://hl7.org/fhir/sid/us-npi';

/**
 * A Patient resource.
 * @param p - the demo patient.
 * @param practitioner - their PCP (`generalPractitioner`).
 */
export function patientResource(p: DemoPatient, practitioner: DemoPractitioner): Record<string, unknown> {
  return {
    resourceType: 'Patient',
    id: p.id,
    identifier: [
      {
        use: 'usual',
        type: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v2-0203', code: 'MR' }] },
        system: EHR_MRN_SYSTEM,
        value: p.mrn,
      },
    ],
    active: true,
    name: [
      { use: 'official', family: p.family, given: p.middle !== undefined ? [p.given, p.middle] : [p.given] },
    ],
    telecom: [{ system: 'phone', value: p.phone, use: 'home' }],
    gender: p.gender,
    birthDate: p.birthDate,
    address: [
      {
        use: 'home',
        line: [p.address.line],
        city: p.address.city,
        state: p.address.state,
        postalCode: p.address.postalCode,
        country: 'US',
      },
    ],
    generalPractitioner: [
      {
        reference: `Practitioner/${practitioner.id}`,
        display: `Dr. ${practitioner.given} ${practitioner.family}`,
      },
    ],
  };
}

/**
 * A Practitioner resource.
 * @param p - the demo practitioner.
 */
export function practitionerResource(p: DemoPractitioner): Record<string, unknown> {
  return {
    resourceType: 'Practitioner',
    id: p.id,
    identifier: [{ system: NPI_SYSTEM, value: p.npi }],
    active: true,
    name: [{ use: 'official', family: p.family, given: [p.given], prefix: ['Dr.'], suffix: ['MD'] }],
  };
}
