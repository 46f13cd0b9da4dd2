/**
 * The one module that talks to fhirclient: the EHR launch (`authorize`), its completion on the
 * redirect page (`ready`), and a current EHR access token (refreshed through `online_access`).
 * Everything else sees `EhrSession`, so components never touch the library and tests never need it.
 */
import FHIR from 'fhirclient';
import type Client from 'fhirclient/lib/Client';
import type { Patient } from '../fhir/fhir-resources';
import { LaunchRequiredError, SessionExpiredError } from './session-errors';

/** What `authorize` needs; the scope string is built by smart-scopes.ts. */
export interface AuthorizeRequest {
  readonly clientId: string;
  readonly scope: string;
  readonly iss: string;
  /** The EHR's launch id; absent for a standalone launch. */
  readonly launch?: string;
  /** `<base>/app/`: the page that calls `completeEhrLaunch`. */
  readonly redirectUri: string;
}

/** An authorised session with the EHR, as the rest of the app sees it. */
export interface EhrSession {
  /** The EHR's FHIR base URL (`iss`). */
  readonly issuer: string;
  /** The app's client id at this EHR. */
  readonly clientId?: string;
  /** The EHR's id of the patient in context. */
  readonly patientId?: string;
  /** The EHR frame does not show the patient: the app must (SMART `need_patient_banner`). */
  readonly needPatientBanner: boolean;
  /** What the EHR granted (may be less than asked). */
  readonly grantedScope: string;
  readonly fhirUser?: string;
  /** A current EHR access token, refreshed first when it expires within a minute. */
  readonly accessToken: () => Promise<string>;
  /** The patient in context, read from the EHR (for the banner). */
  readonly readPatient: () => Promise<Patient>;
}

/** Refresh this long before the EHR token expires, so the engine's introspection sees it active. */
const REFRESH_MARGIN_S = 60;

/**
 * Sends the browser to the EHR's authorize endpoint (PKCE S256 required). Resolves only if the
 * redirect does not happen.
 */
export async function authorizeAtEhr(req: AuthorizeRequest): Promise<void> {
  await FHIR.oauth2.authorize({
    clientId: req.clientId,
    scope: req.scope,
    iss: req.iss,
    ...(req.launch !== undefined ? { launch: req.launch } : {}),
    redirectUri: req.redirectUri,
    pkceMode: 'required',
    // Launched inside an EHR iframe, the whole flow stays in that frame (fhirclient would otherwise
    // guess, and might hand the code to the EHR's parent window).
    completeInTarget: true,
  });
}

function isMissingLaunchState(err: unknown): boolean {
  // fhirclient's words for "no launch in this browser tab" (2.6: "No 'state' parameter found",
  // "No state found! Please (re)launch the app.").
  return err instanceof Error && /no 'state' parameter|no state found/i.test(err.message);
}

/** Completes the launch on the redirect page (or resumes it on a reload). */
export async function completeEhrLaunch(): Promise<EhrSession> {
  let client: Client;
  try {
    client = await FHIR.oauth2.ready();
  } catch (err) {
    if (isMissingLaunchState(err)) throw new LaunchRequiredError();
    throw err;
  }
  return sessionOf(client);
}

function sessionOf(client: Client): EhrSession {
  const token = client.state.tokenResponse;
  const patientId = client.getPatientId() ?? undefined;
  const fhirUser = client.getFhirUser() ?? undefined;
  const clientId = client.state.clientId;
  return {
    issuer: client.state.serverUrl,
    ...(clientId !== undefined ? { clientId } : {}),
    ...(patientId !== undefined ? { patientId } : {}),
    needPatientBanner: token?.need_patient_banner === true,
    grantedScope: typeof token?.scope === 'string' ? token.scope : '',
    ...(fhirUser !== undefined ? { fhirUser } : {}),
    accessToken: () => currentAccessToken(client),
    // fhirclient types the answer as its own Patient; the app reads it through its own FHIR types.
    readPatient: async (): Promise<Patient> => {
      const patient: unknown = await client.patient.read();
      return patient as Patient;
    },
  };
}

async function currentAccessToken(client: Client): Promise<string> {
  const expiresAt = client.state.expiresAt;
  const soon = expiresAt !== undefined && expiresAt - REFRESH_MARGIN_S < Date.now() / 1000;
  if (soon && client.state.tokenResponse?.refresh_token !== undefined) {
    try {
      // fhirclient keeps one refresh in flight, so parallel requests share it.
      await client.refresh();
    } catch (err) {
      throw new SessionExpiredError(
        `The EHR did not renew the session (${err instanceof Error ? err.message : String(err)}).`,
      );
    }
  }
  const accessToken = client.state.tokenResponse?.access_token;
  const expired = client.state.expiresAt !== undefined && client.state.expiresAt * 1000 <= Date.now();
  if (typeof accessToken !== 'string' || accessToken === '' || expired) throw new SessionExpiredError();
  return accessToken;
}
