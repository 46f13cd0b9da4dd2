/**
 * What the SMART app's browser does against the sandbox EHR, done with fetch: follow the
 * launcher's link, authorize with PKCE S256 and exchange the code, so tests get a real EHR token.
 */
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import type { SandboxEhr } from '../../engine/src/cli/sandbox-ehr/sandbox-ehr';

export const APP_SCOPE =
  'launch openid fhirUser patient/Patient.rs patient/Encounter.rs patient/Observation.rs patient/DiagnosticReport.rs online_access';

export interface LaunchedApp {
  readonly access_token: string;
  readonly patient?: string;
  readonly scope: string;
}

function locationOf(res: Response, step: string): URL {
  const location = res.headers.get('location');
  if (location === null) throw new Error(`${step} answered ${res.status} without a redirect`);
  return new URL(location);
}

/**
 * Runs an EHR launch of `patientId` and returns the token response.
 * @param ehr - the sandbox.
 * @param patientId - EHR Patient id.
 * @param app - the app's client id and redirect URI.
 */
export async function launchApp(
  ehr: SandboxEhr,
  patientId: string,
  app: { readonly clientId: string; readonly redirectUri: string; readonly scope?: string },
): Promise<LaunchedApp> {
  const launch = locationOf(await fetch(`${ehr.url}launch/${patientId}`, { redirect: 'manual' }), 'launcher');
  const verifier = randomBytes(32).toString('base64url');
  const authorize = new URL(ehr.urls.authorize);
  const params = {
    response_type: 'code',
    client_id: app.clientId,
    redirect_uri: app.redirectUri,
    scope: app.scope ?? APP_SCOPE,
    state: randomUUID(),
    aud: launch.searchParams.get('iss') ?? '',
    launch: launch.searchParams.get('launch') ?? '',
    code_challenge: createHash('sha256').update(verifier).digest('base64url'),
    code_challenge_method: 'S256',
  };
  for (const [k, v] of Object.entries(params)) authorize.searchParams.set(k, v);
  const back = locationOf(await fetch(authorize, { redirect: 'manual' }), 'authorize');
  const code = back.searchParams.get('code');
  if (code === null) {
    throw new Error(`authorize refused: ${back.searchParams.get('error_description') ?? ''}`);
  }
  const res = await fetch(ehr.urls.token, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      grant_type: 'authorization_code',
      code,
      redirect_uri: app.redirectUri,
      client_id: app.clientId,
      code_verifier: verifier,
    }),
  });
  if (res.status !== 200) throw new Error(`token endpoint answered ${res.status}: ${await res.text()}`);
  return (await res.json()) as LaunchedApp;
}
