/**
 * The key access tokens are signed with. Engines behind one URL must share it (a private ES256
 * JWK in `TOKEN_SIGNING_KEY_FILE`); a lone engine may generate one at start.
 */
import { CodedError } from '../errors/coded-error';
import { readFile } from 'node:fs/promises';
import { importJWK, type CryptoKey, type JWK } from 'jose';
import type { TokenKeyPair } from './token-service';

/** Problems with the signing key file, named with the file. */
export class TokenSigningKeyError extends CodedError<'token-signing-key-invalid'> {
  override readonly name = 'TokenSigningKeyError';
  constructor(message: string) {
    super('token-signing-key-invalid', message);
  }
}

/**
 * Reads a private ES256 JWK (with `d`) and derives its public half.
 * @param file - path from `TOKEN_SIGNING_KEY_FILE`.
 */
export async function loadTokenSigningKey(file: string): Promise<TokenKeyPair> {
  let jwk: JWK;
  try {
    jwk = JSON.parse(await readFile(file, 'utf8')) as JWK;
  } catch (err) {
    throw new TokenSigningKeyError(
      `${file}: not readable JSON (${err instanceof Error ? err.message : String(err)})`,
    );
  }
  if (jwk.kty !== 'EC' || jwk.crv !== 'P-256' || typeof jwk.d !== 'string') {
    throw new TokenSigningKeyError(`${file}: must be a private EC P-256 JWK (kty EC, crv P-256, with d)`);
  }
  const { d: _d, ...publicJwk } = jwk;
  const privateKey = (await importJWK(jwk, 'ES256')) as CryptoKey;
  const publicKey = (await importJWK(publicJwk, 'ES256')) as CryptoKey;
  return { privateKey, publicKey };
}
