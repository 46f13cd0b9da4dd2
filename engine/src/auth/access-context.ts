/**
 * Who is calling and what their scopes allow. Every protected handler decides with
 * `allowsResource`, so scope rules live in one place (SMART v1 `.read/.write` and v2 `.cruds`).
 */

/** The caller behind a verified bearer token. */
export interface AccessContext {
  /** Registered client ID (system clients) or the EHR user's client. */
  readonly clientId: string;
  readonly scopes: readonly string[];
  /** Set when the token is bound to one patient (EHR launch); undefined for system tokens. */
  readonly patient?: string;
  /** The person or system on whose behalf the call is made, for the audit trail. */
  readonly subject?: string;
}

/** Interactions in SMART v2 letters: create, read, update, delete, search. */
export type Interaction = 'c' | 'r' | 'u' | 'd' | 's';

const V1: Record<string, readonly Interaction[]> = {
  read: ['r', 's'],
  write: ['c', 'u', 'd'],
  '*': ['c', 'r', 'u', 'd', 's'],
};

/**
 * True when any scope grants `interaction` on `resourceType`.
 * @param resourceType - FHIR type, or a pseudo-type such as `Message` for the admin API.
 */
export function allowsResource(ctx: AccessContext, resourceType: string, interaction: Interaction): boolean {
  return ctx.scopes.some((scope) => scopeGrants(scope, resourceType, interaction));
}

/** Parses `system/Patient.rs`, `patient/*.read`, `user/Observation.cruds` and asks one question of it. */
export function scopeGrants(scope: string, resourceType: string, interaction: Interaction): boolean {
  const m = /^(system|user|patient)\/([A-Za-z*]+)\.([a-z*]+)(?:\?.*)?$/.exec(scope);
  if (!m) return false;
  const [, , type, perms = ''] = m;
  if (type !== '*' && type !== resourceType) return false;
  const v1 = V1[perms];
  if (v1 !== undefined) return v1.includes(interaction);
  return /^c?r?u?d?s?$/.test(perms) && perms.includes(interaction);
}
