/**
 * Reading the token endpoint's form (RFC 6749 section 3.2): one value per parameter, required
 * ones present and non-empty, for every grant type alike.
 */
import type { Request } from 'express';
import { AuthError } from './auth-error';

/** A parsed `application/x-www-form-urlencoded` body. */
export type TokenForm = Record<string, unknown>;

/**
 * A parameter's value, undefined when absent.
 * @throws AuthError `invalid_request` when it is sent more than once.
 */
export function formParam(body: TokenForm, name: string): string | undefined {
  const value = body[name];
  if (value === undefined) return undefined;
  // RFC 6749 section 3.2: request parameters must not be included more than once.
  if (typeof value !== 'string') throw new AuthError('invalid_request', `${name} must be sent exactly once`);
  return value;
}

/**
 * A parameter that must be present and non-empty.
 * @throws AuthError `invalid_request` otherwise.
 */
export function requireParam(body: TokenForm, name: string): string {
  const value = formParam(body, name);
  if (value === undefined || value === '') throw new AuthError('invalid_request', `${name} is required`);
  return value;
}

/**
 * The request's form.
 * @throws AuthError `invalid_request` when the body is not form-encoded.
 */
export function readForm(req: Request): TokenForm {
  const body: unknown = req.body;
  if (!req.is('application/x-www-form-urlencoded') || body === null || typeof body !== 'object') {
    throw new AuthError('invalid_request', 'the body must be application/x-www-form-urlencoded');
  }
  return body as TokenForm;
}
