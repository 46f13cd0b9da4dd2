// The launch: scopes (v2 with v1 fallbacks, chosen from the EHR's capabilities; launch/patient
// for a standalone launch), the authorize request (redirect to /app/), the one retry with v1 scopes
// after invalid_scope, and the engine's config.json.
import { describe, expect, it } from 'vitest';
import { parseAppConfig, type AppConfig } from '../src/app/app-config';
import { appBaseUrl, engineBaseUrl, engineUrlsOf } from '../src/app/app-urls';
import {
  authorizationErrorOf,
  beginLaunch,
  readLaunchParams,
  retryWithV1Scopes,
  type LaunchDeps,
} from '../src/smart/launch-flow';
import type { AuthorizeRequest } from '../src/smart/smart-session';
import { DEFAULT_APP_SCOPES, scopeRequest, scopeSyntaxFor, toV1Scopes } from '../src/smart/smart-scopes';

describe('scopes', () => {
  it('maps v2 resource scopes to their v1 form and leaves the others', () => {
    expect(toV1Scopes('patient/Patient.rs')).toEqual(['patient/Patient.read']);
    expect(toV1Scopes('patient/Observation.r')).toEqual(['patient/Observation.read']);
    expect(toV1Scopes('user/Communication.cruds')).toEqual([
      'user/Communication.read',
      'user/Communication.write',
    ]);
    expect(toV1Scopes('online_access')).toEqual(['online_access']);
  });

  it('asks for both syntaxes unless the EHR says which it speaks', () => {
    expect(scopeSyntaxFor(undefined)).toBe('both');
    expect(scopeSyntaxFor(['permission-v1', 'permission-v2'])).toBe('both');
    expect(scopeSyntaxFor(['launch-ehr'])).toBe('both');
    expect(scopeSyntaxFor(['permission-v2'])).toBe('v2');
    expect(scopeSyntaxFor(['permission-v1'])).toBe('v1');
  });

  it('builds the scope string of an EHR and of a standalone launch', () => {
    const scopes = [
      'launch',
      'openid',
      'fhirUser',
      'patient/Patient.rs',
      'patient/Encounter.rs',
      'online_access',
    ];
    expect(scopeRequest(scopes, 'both', 'ehr')).toBe(
      'launch openid fhirUser patient/Patient.rs patient/Patient.read patient/Encounter.rs patient/Encounter.read online_access',
    );
    expect(scopeRequest(scopes, 'v2', 'standalone')).toBe(
      'launch/patient openid fhirUser patient/Patient.rs patient/Encounter.rs online_access',
    );
    expect(scopeRequest(['patient/Patient.rs'], 'v1', 'ehr')).toBe('patient/Patient.read');
  });
});

describe('app config', () => {
  it('takes the client id and scopes the engine serves, with defaults for missing scopes', () => {
    expect(parseAppConfig({ clientId: 'care-timeline', scopes: ['launch', 'openid'] })).toEqual({
      clientId: 'care-timeline',
      scopes: ['launch', 'openid'],
    });
    expect(parseAppConfig({ clientId: 'x', scopes: 'launch  openid' }).scopes).toEqual(['launch', 'openid']);
    expect(parseAppConfig({ clientId: 'x' }).scopes).toBe(DEFAULT_APP_SCOPES);
    expect(() => parseAppConfig({ scopes: [] })).toThrow('no clientId');
  });

  it('finds the engine from the app’s own address', () => {
    const base = appBaseUrl('https://engine.example/app/?code=abc&state=xyz', '/app/');
    expect(base.href).toBe('https://engine.example/app/');
    expect(engineUrlsOf(engineBaseUrl(base))).toEqual({
      tokenUrl: 'https://engine.example/auth/token',
      fhirBase: 'https://engine.example/fhir/',
    });
  });
});

function fakeDeps(
  capabilities: readonly string[] | undefined,
): LaunchDeps & { requests: AuthorizeRequest[] } {
  const m = new Map<string, string>();
  const requests: AuthorizeRequest[] = [];
  const config: AppConfig = { clientId: 'care-timeline', scopes: DEFAULT_APP_SCOPES };
  return {
    requests,
    appBase: new URL('https://engine.example/app/'),
    loadConfig: () => Promise.resolve(config),
    discover: () => Promise.resolve(capabilities),
    authorize: (req) => {
      requests.push(req);
      return Promise.resolve();
    },
    storage: { getItem: (k) => m.get(k) ?? null, setItem: (k, v) => void m.set(k, v) },
  };
}

describe('launch flow', () => {
  it('reads an EHR launch (iss and launch) and a standalone launch (iss only)', () => {
    expect(
      readLaunchParams(new URL('https://e/app/launch.html?iss=https%3A%2F%2Fehr%2Ffhir&launch=L1')),
    ).toEqual({
      iss: 'https://ehr/fhir',
      launch: 'L1',
    });
    expect(readLaunchParams(new URL('https://e/app/launch.html?iss=https%3A%2F%2Fehr%2Ffhir'))).toEqual({
      iss: 'https://ehr/fhir',
    });
    expect(readLaunchParams(new URL('https://e/app/launch.html'))).toBeUndefined();
  });

  it('authorises with the client id, the scopes, the launch id and /app/ as redirect', async () => {
    const deps = fakeDeps(['permission-v2']);
    await beginLaunch({ iss: 'https://ehr/fhir', launch: 'L1' }, deps);
    expect(deps.requests).toEqual([
      {
        clientId: 'care-timeline',
        scope: scopeRequest(DEFAULT_APP_SCOPES, 'v2', 'ehr'),
        iss: 'https://ehr/fhir',
        launch: 'L1',
        redirectUri: 'https://engine.example/app/',
      },
    ]);
  });

  it('refuses a launch without iss', async () => {
    await expect(beginLaunch(undefined, fakeDeps(undefined))).rejects.toMatchObject({
      name: 'LaunchRequiredError',
    });
  });

  it('retries once with v1 scopes when the EHR answers invalid_scope', async () => {
    const deps = fakeDeps(undefined);
    await beginLaunch({ iss: 'https://ehr/fhir', launch: 'L1' }, deps);
    const refused = new URL(
      'https://engine.example/app/?error=invalid_scope&error_description=unknown+scope&state=s',
    );
    expect(authorizationErrorOf(refused)).toEqual({ error: 'invalid_scope', description: 'unknown scope' });
    expect(await retryWithV1Scopes(refused, deps)).toBe(true);
    expect(deps.requests[1]).toMatchObject({
      launch: 'L1',
      scope: scopeRequest(DEFAULT_APP_SCOPES, 'v1', 'ehr'),
    });
    // v1 refused too: no loop, the page shows the error.
    expect(await retryWithV1Scopes(refused, deps)).toBe(false);
    expect(await retryWithV1Scopes(new URL('https://engine.example/app/?error=access_denied'), deps)).toBe(
      false,
    );
  });
});
