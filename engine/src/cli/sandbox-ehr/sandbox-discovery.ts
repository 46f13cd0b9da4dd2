/**
 * How apps and resource servers find the sandbox EHR's endpoints: the SMART App Launch 2.x
 * `.well-known/smart-configuration`, the OpenID Connect discovery document its id_tokens are
 * checked against, and a CapabilityStatement with the SMART `oauth-uris` extension for clients
 * that still read `metadata`.
 */
import { CONTEXT_SCOPES } from './sandbox-scopes';

/** Where everything lives, from the server's origin. */
export interface SandboxUrls {
  readonly origin: string;
  /** The FHIR base URL: SMART `iss`, OIDC issuer and the required `aud`. */
  readonly iss: string;
  readonly authorize: string;
  readonly token: string;
  readonly introspect: string;
  readonly jwks: string;
  readonly style: string;
}

/**
 * The endpoint URLs.
 * @param origin - `http://127.0.0.1:<port>`.
 */
export function sandboxUrls(origin: string): SandboxUrls {
  return {
    origin,
    iss: `${origin}/fhir`,
    authorize: `${origin}/authorize`,
    token: `${origin}/token`,
    introspect: `${origin}/introspect`,
    jwks: `${origin}/jwks`,
    style: `${origin}/smart-style.json`,
  };
}

/** Resource scopes the sandbox advertises (v2 first, then the v1 forms it still accepts). */
const RESOURCE_SCOPES = ['Patient', 'Encounter', 'Observation', 'DiagnosticReport', 'Practitioner'].flatMap(
  (t) => [`patient/${t}.rs`, `user/${t}.rs`, `patient/${t}.read`, `user/${t}.read`],
);

export const INTROSPECTION_AUTH_METHODS = ['client_secret_basic', 'private_key_jwt', 'bearer'] as const;

/**
 * The SMART configuration document.
 * @param urls - the server's endpoints.
 */
export function smartConfiguration(urls: SandboxUrls): Record<string, unknown> {
  return {
    issuer: urls.iss,
    jwks_uri: urls.jwks,
    authorization_endpoint: urls.authorize,
    token_endpoint: urls.token,
    introspection_endpoint: urls.introspect,
    // The app is a public client: it authenticates with PKCE, not a secret.
    token_endpoint_auth_methods_supported: ['none'],
    introspection_endpoint_auth_methods_supported: [...INTROSPECTION_AUTH_METHODS],
    grant_types_supported: ['authorization_code', 'refresh_token'],
    response_types_supported: ['code'],
    code_challenge_methods_supported: ['S256'],
    scopes_supported: [...CONTEXT_SCOPES, ...RESOURCE_SCOPES],
    capabilities: [
      'launch-ehr',
      'launch-standalone',
      'authorize-post',
      'client-public',
      'context-ehr-patient',
      'context-standalone-patient',
      'context-banner',
      'context-style',
      'permission-patient',
      'permission-user',
      'permission-online',
      'permission-offline',
      'permission-v1',
      'permission-v2',
      'sso-openid-connect',
    ],
  };
}

/**
 * The OpenID Connect discovery document for the id_tokens the sandbox signs.
 * @param urls - the server's endpoints.
 */
export function openIdConfiguration(urls: SandboxUrls): Record<string, unknown> {
  return {
    issuer: urls.iss,
    jwks_uri: urls.jwks,
    authorization_endpoint: urls.authorize,
    token_endpoint: urls.token,
    response_types_supported: ['code'],
    subject_types_supported: ['public'],
    id_token_signing_alg_values_supported: ['RS256'],
    scopes_supported: ['openid', 'fhirUser', 'profile'],
    claims_supported: ['iss', 'sub', 'aud', 'exp', 'iat', 'nonce', 'fhirUser', 'name'],
    code_challenge_methods_supported: ['S256'],
  };
}

/**
 * A FHIR R4 CapabilityStatement naming the OAuth endpoints.
 * @param urls - the server's endpoints.
 */
export function capabilityStatement(urls: SandboxUrls): Record<string, unknown> {
  return {
    resourceType: 'CapabilityStatement',
    status: 'active',
    date: '2024-01-01',
    kind: 'instance',
    software: { name: 'care-coordination sandbox EHR' },
    implementation: { description: 'Sandbox EHR for the care-coordination demo', url: urls.iss },
    fhirVersion: '4.0.1',
    format: ['json'],
    rest: [
      {
        mode: 'server',
        security: {
          service: [
            {
              coding: [
                {
                  system: 'http://terminology.hl7.org/CodeSystem/restful-security-service',
                  code: 'SMART-on-FHIR',
                },
              ],
            },
          ],
          extension: [
            {
              url: 'http://fhir-registry.smarthealthit.org/StructureDefinition/oauth-uris',
              extension: [
                { url: 'authorize', valueUri: urls.authorize },
                { url: 'token', valueUri: urls.token },
                { url: 'introspect', valueUri: urls.introspect },
              ],
            },
          ],
        },
        resource: ['Patient', 'Practitioner'].map((type) => ({ type, interaction: [{ code: 'read' }] })),
      },
    ],
  };
}

/** Colours an app may use to blend into the EHR (SMART `smart_style_url`). */
export const SMART_STYLE = {
  color_background: '#f4f6f8',
  color_error: '#b00020',
  color_highlight: '#2f6fb0',
  color_modal_backdrop: '#00000066',
  color_success: '#2e7d32',
  color_text: '#1c2733',
  dim_border_radius: '6px',
  dim_font_size: '14px',
  dim_spacing_size: '16px',
  font_family_body: 'system-ui, sans-serif',
  font_family_heading: 'system-ui, sans-serif',
} as const;
