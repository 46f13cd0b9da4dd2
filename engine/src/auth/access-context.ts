/**
 * Who is calling and what their scopes allow. Every protected handler decides with
 * `allowsResource`, so scope rules live in one place (SMART v1 `.read/.write` and v2 `.cruds`),
 * and reads the caller with `getAccessContext`, the one path from a request to its AccessContext.
 */
import type { Response } from 'express';
import { CodedError } from '../errors/coded-error';
import { parseScope, type Interaction } from './scope-grant';

export type { Interaction } from './scope-grant';

/** The caller behind a verified bearer token. */
export interface AccessContext {
  /** Registered client ID (system clients) or the EHR user's client. */
  readonly clientId: string;
  readonly scopes: readonly string[];
  /**
   * The Patient IDs a patient-bound token may see; undefined for tokens bound to no patient
   * (system tokens). Today the token's `patient` claim, as a one-element set; identity linking
   * adds the person's other Patient records here, so every check reads the set, never one ID.
   */
  readonly patients?: ReadonlySet<string>;
  /** The person or system on whose behalf the call is made, for the audit trail. */
  readonly subject?: string;
}

/**
 * A handler asked for the AccessContext on a request that no bearer-token check admitted (the
 * middleware is not mounted before it): a wiring bug, never the caller's fault.
 */
export class MissingAccessContextError extends CodedError<'auth-context-missing'> {
  override readonly name = 'MissingAccessContextError';
  constructor() {
    super('auth-context-missing', 'no AccessContext on this response: mount requireAuth before this handler');
  }
}

/** Where the verified caller lives on a response. */
const LOCALS_KEY = 'auth';

function isStringSet(value: unknown): value is ReadonlySet<string> {
  return value instanceof Set && [...(value as Set<unknown>)].every((v) => typeof v === 'string');
}

function isAccessContext(value: unknown): value is AccessContext {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as Partial<Record<keyof AccessContext, unknown>>;
  return (
    typeof v.clientId === 'string' &&
    Array.isArray(v.scopes) &&
    v.scopes.every((s) => typeof s === 'string') &&
    (v.patients === undefined || isStringSet(v.patients)) &&
    (v.subject === undefined || typeof v.subject === 'string')
  );
}

/**
 * Records the verified caller of this request; only the bearer-token middleware calls it.
 * @param res - the response of the request the token came with.
 */
export function setAccessContext(res: Response, ctx: AccessContext): void {
  res.locals[LOCALS_KEY] = ctx;
}

/**
 * The verified caller of this request, for the admin and FHIR APIs alike.
 * @param res - a response that passed `requireAuth`.
 * @throws MissingAccessContextError when no AccessContext (or a malformed one) is recorded.
 */
export function getAccessContext(res: Response): AccessContext {
  const value: unknown = res.locals[LOCALS_KEY];
  if (!isAccessContext(value)) throw new MissingAccessContextError();
  return value;
}

/**
 * True when any scope grants `interaction` on `resourceType`.
 * @param resourceType - FHIR type, or a pseudo-type such as `Message` for the admin API.
 */
export function allowsResource(ctx: AccessContext, resourceType: string, interaction: Interaction): boolean {
  return ctx.scopes.some((scope) => scopeGrants(scope, resourceType, interaction));
}

/**
 * Asks one question of `system/Patient.rs`, `patient/*.read`, `user/Observation.cruds` and the
 * like. A scope with a `?` filter grants nothing: the engine does not enforce filters, and
 * ignoring one would widen the scope to every resource of its type.
 */
export function scopeGrants(scope: string, resourceType: string, interaction: Interaction): boolean {
  const parsed = parseScope(scope);
  if (parsed === undefined) return false;
  if (parsed.resourceType !== '*' && parsed.resourceType !== resourceType) return false;
  return parsed.interactions.has(interaction);
}
