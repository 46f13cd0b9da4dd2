/**
 * The admissions the notification benchmark sends: the shape of mappings/tests/adt-a01.hl7 (an
 * inpatient A01 from Mercy naming the registered PCP in PD1-4), each a new patient and visit.
 * Demographics come from the simulator's population and no SSN or shared phone is sent, so
 * identity linking sees distinct people, as it would on a real feed, not one person 12,000 times.
 */
import type { Patient } from '../simulator/patient-population';
import { escapeHl7, hl7Time } from '../simulator/message-templates';

/** The PCP every admission names; the benchmark registers a practice for this NPI. */
export const BENCH_PCP_NPI = '1234567893';
const PCP = `${BENCH_PCP_NPI}^Welby^Marcus^^^Dr^MD^^^^^^NPI`;
const AUTHORITY = 'MERCY&2.16.840.1.113883.3.1234&ISO';

export interface BenchA01 {
  /** MSH-10. */
  readonly controlId: string;
  /** PV1-19.1: what the Encounter's identifier and so the notice carry. */
  readonly visit: string;
  readonly text: string;
}

/**
 * Renders admission `n` of a run.
 * @param runId - makes control ids, MRNs and visit numbers unique across runs on one database.
 * @param n - the admission's number in the run.
 * @param patient - who is admitted.
 * @param at - when (MSH-7, EVN-2, PV1-44).
 */
export function renderBenchA01(runId: string, n: number, patient: Patient, at: Date): BenchA01 {
  const controlId = `NB-${runId}-${n}`;
  const visit = `NV${runId}${n}`;
  const ts = hl7Time(at);
  const name = `${escapeHl7(patient.family)}^${escapeHl7(patient.given)}^${patient.middleInitial}^^^^L`;
  const a = patient.address;
  const pv1: string[] = Array.from({ length: 45 }, () => '');
  pv1[0] = 'PV1';
  pv1[1] = '1';
  pv1[2] = 'I';
  pv1[3] = '4W^401^B^MERCY^^^MAIN^4';
  pv1[4] = 'E';
  pv1[7] = '1111111111^House^Gregory^^^Dr^^^^^^^NPI';
  pv1[10] = 'MED';
  pv1[14] = '7';
  pv1[19] = `${visit}^^^${AUTHORITY}^VN`;
  pv1[44] = ts;
  const text = [
    `MSH|^~\\&|EPIC|MERCY^2.16.840.1.113883.3.1234^ISO|CARE|CARE|${ts}||ADT^A01^ADT_A01|${controlId}|P|2.5.1`,
    `EVN|A01|${ts}|||||MERCY`,
    `PID|1||NB${runId}${n}^^^${AUTHORITY}^MR||${name}||${patient.birthDate}|${patient.sex}|||` +
      `${escapeHl7(a.street)}^^${escapeHl7(a.city)}^${a.state}^${a.zip}^USA^H||^PRN^PH^^1^${patient.phone.area}^${patient.phone.number}`,
    `PD1|||Mercy Clinic|${PCP}`,
    pv1.join('|'),
    `DG1|1||I21.4^Non-ST elevation myocardial infarction^I10||${ts}|A`,
  ].join('\r');
  return { controlId, visit, text };
}
