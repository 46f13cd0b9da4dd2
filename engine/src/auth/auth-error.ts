/**
 * OAuth 2.0 error responses (RFC 6749 section 5.2) as typed values, so the token endpoint and
 * everything it calls report failures by code rather than by message text.
 */
import { CodedError } from '../errors/coded-error';

/** The RFC 6749 / RFC 7521 error codes the token endpoint answers with. */
export const AuthErrorCode = {
  invalidRequest: 'invalid_request',
  invalidClient: 'invalid_client',
  invalidScope: 'invalid_scope',
  unsupportedGrantType: 'unsupported_grant_type',
} as const;

export type AuthErrorCode = (typeof AuthErrorCode)[keyof typeof AuthErrorCode];

/** A token request that must be refused; `code` and `message` become `{error, error_description}`. */
export class AuthError extends CodedError<AuthErrorCode> {
  override readonly name = 'AuthError';

  /** 401 when the client failed to authenticate (RFC 6749 section 5.2), 400 otherwise. */
  get status(): 400 | 401 {
    return this.code === AuthErrorCode.invalidClient ? 401 : 400;
  }
}
