/**
 * What a caller's scopes let it do on one resource type of the /fhir API, including the
 * patient restriction of `patient/` scopes, decided once per request and enforced by the store.
 */
import type { Response } from 'express';
import { allowsResource, scopeGrants, type AccessContext, type Interaction } from '../auth/access-context';

/** The `authorize` middleware ran but left no AccessContext: the router is mounted wrongly. */
export class FhirAccessContextMissingError extends Error {
  override readonly name = 'FhirAccessContextMissingError';
  readonly code = 'fhir-access-context-missing';
  constructor() {
    super('authorize left no AccessContext in res.locals.auth');
  }
}

/** The outcome of a scope check: refused, or allowed (possibly only within one patient's data). */
export type FhirAccess =
  | { readonly allowed: false; readonly reason: string }
  | { readonly allowed: true; readonly compartmentPatient: string | undefined };

function isAccessContext(value: unknown): value is AccessContext {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as Partial<Record<keyof AccessContext, unknown>>;
  return (
    typeof v.clientId === 'string' &&
    Array.isArray(v.scopes) &&
    (v.patient === undefined || typeof v.patient === 'string')
  );
}

/**
 * The AccessContext `authorize` left in `res.locals.auth`.
 * @throws FhirAccessContextMissingError when there is none.
 */
export function accessContextOf(res: Response): AccessContext {
  const value: unknown = res.locals['auth'];
  if (!isAccessContext(value)) throw new FhirAccessContextMissingError();
  return value;
}

/**
 * Decides `interaction` on `resourceType`. A `system/` or `user/` scope allows it outright; a
 * `patient/` scope allows it only within the token's patient, and not at all without one.
 */
export function decideAccess(ctx: AccessContext, resourceType: string, interaction: Interaction): FhirAccess {
  if (!allowsResource(ctx, resourceType, interaction)) {
    return { allowed: false, reason: `the token's scopes do not allow '${interaction}' on ${resourceType}` };
  }
  const broad = ctx.scopes.some(
    (s) => !s.startsWith('patient/') && scopeGrants(s, resourceType, interaction),
  );
  if (broad) return { allowed: true, compartmentPatient: undefined };
  if (ctx.patient === undefined) {
    return { allowed: false, reason: 'patient/ scopes need a patient in the launch context' };
  }
  return { allowed: true, compartmentPatient: ctx.patient };
}
