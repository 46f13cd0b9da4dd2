/**
 * Why a bearer token was refused, as a code the HTTP layer maps to a 401 without parsing messages.
 */
import { CodedError } from '../errors/coded-error';

/** Reasons an access token fails verification. */
export const TokenErrorCode = {
  /** Well-formed and signed by this engine, but past its exp. */
  expired: 'token-expired',
  /** Not signed by this engine's key (forged, or issued by another key). */
  badSignature: 'token-bad-signature',
  /** Not a JWT, wrong alg or typ, or a claim this engine always sets is missing or wrong. */
  malformed: 'token-malformed',
} as const;

export type TokenErrorCode = (typeof TokenErrorCode)[keyof typeof TokenErrorCode];

/** A bearer token that does not authenticate its holder. */
export class TokenError extends CodedError<TokenErrorCode> {
  override readonly name = 'TokenError';
}
