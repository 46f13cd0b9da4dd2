/**
 * Reads the launch Patient from the EHR's own FHIR server with the EHR's token: the engine
 * learns who the patient is from the EHR itself, never from the app, which could name anyone.
 */
import type { JsonObject } from '../store/fhir-json';
import { callEhr, EhrUnavailableError } from './ehr-http';
import { TokenExchangeError } from './token-exchange-error';

/** A FHIR id (R4): what a `patient` launch context must be before it goes into a URL. */
export const FHIR_ID = /^[A-Za-z0-9\-.]{1,64}$/;

/**
 * `GET <iss>/Patient/<id>` with `Authorization: Bearer <EHR token>`.
 * @param iss - the EHR's FHIR base URL (from the issuers file).
 * @param patientId - the introspection's `patient`, already checked against FHIR_ID.
 * @throws TokenExchangeError `ehr-patient-unreadable` when the EHR answers with anything but
 *   a Patient, `ehr-unavailable` when it does not answer (or answers 5xx).
 */
export async function readEhrPatient(iss: string, patientId: string, ehrToken: string): Promise<JsonObject> {
  let answer;
  try {
    answer = await callEhr(`${iss}/Patient/${encodeURIComponent(patientId)}`, {
      headers: { authorization: `Bearer ${ehrToken}`, accept: 'application/fhir+json' },
    });
  } catch (err) {
    if (err instanceof EhrUnavailableError) {
      throw new TokenExchangeError('ehr-unavailable', err.message, { cause: err });
    }
    throw err;
  }
  if (answer.status >= 500) {
    throw new TokenExchangeError(
      'ehr-unavailable',
      `${iss} answered ${answer.status} for the launch Patient`,
    );
  }
  const body = answer.json;
  const isPatient =
    typeof body === 'object' &&
    body !== null &&
    (body as Record<string, unknown>)['resourceType'] === 'Patient';
  if (answer.status !== 200 || !isPatient) {
    throw new TokenExchangeError(
      'ehr-patient-unreadable',
      `${iss} did not give the launch Patient for this token (status ${answer.status})`,
    );
  }
  return body as JsonObject;
}
