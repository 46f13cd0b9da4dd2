/**
 * The EHR's patient for the banner, read only when the EHR asked for one
 * (`need_patient_banner`): an EHR frame that shows the patient already does not need a second.
 */
import { useQuery, type UseQueryResult } from '@tanstack/react-query';
import type { Patient } from '../fhir/fhir-resources';

export function useEhrPatient(
  readPatient: (() => Promise<Patient>) | undefined,
  wanted: boolean,
): UseQueryResult<Patient> {
  return useQuery({
    queryKey: ['ehr-patient'],
    queryFn: () => (readPatient ?? (() => Promise.reject(new Error('no EHR patient reader'))))(),
    enabled: wanted && readPatient !== undefined,
    staleTime: Number.POSITIVE_INFINITY,
    retry: false,
  });
}
