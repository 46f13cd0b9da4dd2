/**
 * The SMART discovery document (`/fhir/.well-known/smart-configuration`), so clients find the
 * token endpoint and what it accepts instead of being configured by hand.
 */
import { ASSERTION_ALGORITHMS } from './client-assertion';
import { TOKEN_EXCHANGE_GRANT_TYPE } from './ehr-token-exchange';
import { EXCHANGE_APP_SCOPES } from './exchange-scopes';

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
 * Builds the discovery document. Backend Services, and with `tokenExchange` the EHR token
 * exchange (RFC 8693) and its `patient/` scopes. The engine authorises no user itself (the EHR
 * does), so `authorization_endpoint` and PKCE methods are absent.
 * @param publicUrl - `config.http.publicUrl`.
 * @param scopesSupported - scopes to advertise; @defaultValue DEFAULT_SCOPES_SUPPORTED
 * @param tokenExchange - true when EHR_ISSUERS_FILE lists an EHR. @defaultValue false
 */
export function buildSmartConfiguration(
  publicUrl: string,
  scopesSupported: readonly string[] = DEFAULT_SCOPES_SUPPORTED,
  tokenExchange = false,
): SmartConfiguration {
  return {
    token_endpoint: tokenEndpointFor(publicUrl),
    grant_types_supported: tokenExchange
      ? ['client_credentials', TOKEN_EXCHANGE_GRANT_TYPE]
      : ['client_credentials'],
    token_endpoint_auth_methods_supported: ['private_key_jwt'],
    token_endpoint_auth_signing_alg_values_supported: [...ASSERTION_ALGORITHMS],
    scopes_supported: tokenExchange ? [...scopesSupported, ...EXCHANGE_APP_SCOPES] : scopesSupported,
    capabilities: ['client-confidential-asymmetric', 'permission-v1', 'permission-v2'],
  };
}
