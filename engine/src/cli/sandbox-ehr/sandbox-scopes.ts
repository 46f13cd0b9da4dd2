/**
 * SMART scopes as the sandbox EHR grants and enforces them: v2 (`patient/Patient.rs`) and v1
 * (`patient/Patient.read`) resource scopes, identity and launch scopes. Scopes the server does not
 * know are left out of the grant rather than refused, as SMART allows; a v2 scope with a `?`
 * filter is left out too, since granting it unfiltered would give more than was asked.
 */

/** Scopes that are not about resources. */
export const CONTEXT_SCOPES: readonly string[] = [
  'openid',
  'fhirUser',
  'profile',
  'launch',
  'launch/patient',
  'online_access',
  'offline_access',
];

const RESOURCE_SCOPE = /^(patient|user)\/(\*|[A-Z][A-Za-z]+)\.(read|write|\*|c?r?u?d?s?)$/;

/** What a resource scope says. */
export interface ResourceScope {
  readonly context: 'patient' | 'user';
  readonly type: string;
  /** v2 letters (`rs`); v1 `read` is `rs`, `write` is `cud`, `*` is `cruds`. */
  readonly permissions: string;
}

/**
 * Parses a resource scope; undefined when it is not one this server can grant.
 * @param scope - one scope, e.g. `patient/Observation.rs`.
 */
export function parseResourceScope(scope: string): ResourceScope | undefined {
  const m = RESOURCE_SCOPE.exec(scope);
  if (m === null) return undefined;
  const [, context, type, perms] = m;
  if (context === undefined || type === undefined || perms === undefined || perms === '') return undefined;
  const permissions = perms === 'read' ? 'rs' : perms === 'write' ? 'cud' : perms === '*' ? 'cruds' : perms;
  return { context: context as 'patient' | 'user', type, permissions };
}

/**
 * The scopes of a request this server grants, in the order asked, without repeats.
 * @param requested - the space-separated `scope` parameter.
 * @param options - `ehrLaunch`: whether a `launch` parameter came with the request (`launch` is
 *   only granted then).
 */
export function grantScopes(requested: string, options: { readonly ehrLaunch: boolean }): string[] {
  const granted: string[] = [];
  for (const scope of requested.split(' ')) {
    if (scope === '' || granted.includes(scope)) continue;
    if (scope === 'launch' && !options.ehrLaunch) continue;
    if (CONTEXT_SCOPES.includes(scope) || parseResourceScope(scope) !== undefined) granted.push(scope);
  }
  return granted;
}

/**
 * Whether the scopes let their holder read a resource of `type`.
 * @param scopes - a grant's scopes.
 * @param context - `patient` for a read within the launch patient's compartment, `user` for
 *   anything the user may see.
 * @param type - the resource type.
 */
export function allowsRead(scopes: readonly string[], context: 'patient' | 'user', type: string): boolean {
  return scopes.some((s) => {
    const parsed = parseResourceScope(s);
    return (
      parsed !== undefined &&
      parsed.context === context &&
      (parsed.type === '*' || parsed.type === type) &&
      parsed.permissions.includes('r')
    );
  });
}
