/**
 * The SMART discovery document (`/fhir/.well-known/smart-configuration`), so clients find the
 * token endpoint and what it accepts instead of being configured by hand.
 */
import { ASSERTION_ALGORITHMS } from './client-assertion';

/** Scope patterns advertised when the caller does not list its own. */
export const DEFAULT_SCOPES_SUPPORTED: readonly string[] = [
  'system/*.cruds',
  'system/*.rs',
  'system/*.read',
  'system/*.write',
];

/** The subset of SMART App Launch 2.x `smart-configuration` fields this engine implements. */
export interface SmartConfiguration {
  readonly token_endpoint: string;
  readonly grant_types_supported: readonly string[];
  readonly token_endpoint_auth_methods_supported: readonly string[];
  readonly token_endpoint_auth_signing_alg_values_supported: readonly string[];
  readonly scopes_supported: readonly string[];
  readonly capabilities: readonly string[];
}

/**
 * The token endpoint URL for a public base URL; assertions must use it as `aud`.
 * @param publicUrl - `config.http.publicUrl`, with or without a trailing slash.
 */
export function tokenEndpointFor(publicUrl: string): string {
  return `${publicUrl.replace(/\/+$/, '')}/auth/token`;
}

/**
 * Builds the discovery document. Only Backend Services is offered: there is no authorization
 * endpoint until EHR launch lands, so `authorization_endpoint` and PKCE methods are absent.
 * @param publicUrl - `config.http.publicUrl`.
 * @param scopesSupported - scopes to advertise; @defaultValue DEFAULT_SCOPES_SUPPORTED
 */
export function buildSmartConfiguration(
  publicUrl: string,
  scopesSupported: readonly string[] = DEFAULT_SCOPES_SUPPORTED,
): SmartConfiguration {
  return {
    token_endpoint: tokenEndpointFor(publicUrl),
    grant_types_supported: ['client_credentials'],
    token_endpoint_auth_methods_supported: ['private_key_jwt'],
    token_endpoint_auth_signing_alg_values_supported: [...ASSERTION_ALGORITHMS],
    scopes_supported: scopesSupported,
    capabilities: ['client-confidential-asymmetric', 'permission-v1', 'permission-v2'],
  };
}
