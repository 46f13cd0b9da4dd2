/**
 * Which of the scopes a client asks for it actually gets. A grant never exceeds the client's
 * registration, but a request broader than the registration is narrowed rather than refused.
 */

/** Interactions in SMART v2 letters: create, read, update, delete, search. */
export type Interaction = 'c' | 'r' | 'u' | 'd' | 's';

/** SMART v2 interaction letters in their canonical order. */
const LETTERS: readonly Interaction[] = ['c', 'r', 'u', 'd', 's'];

/** SMART v1 permission words in v2 letters. */
const V1_LETTERS: Readonly<Record<string, readonly Interaction[]>> = {
  read: ['r', 's'],
  write: ['c', 'u', 'd'],
  '*': LETTERS,
};

/**
 * A resource scope taken apart. SMART v2 scopes with a `?` filter
 * (`patient/Observation.rs?category=…|laboratory`) do not parse: the engine does not enforce
 * filters, and reading such a scope without its filter would grant more than it says. So a
 * filtered scope is refused everywhere: dropped from a token grant, and granting nothing on a
 * token that carries one.
 */
export interface ParsedScope {
  readonly context: 'system' | 'user' | 'patient';
  /** A FHIR type name or `*`. */
  readonly resourceType: string;
  readonly interactions: ReadonlySet<Interaction>;
}

const SCOPE_PATTERN = /^(system|user|patient)\/([A-Z][A-Za-z]*|\*)\.(read|write|\*|c?r?u?d?s?)$/;

/**
 * Parses `system/Patient.rs`, `system/*.read` and the like. The one scope parser: token grants
 * and access decisions (`scopeGrants`) both read scopes through it.
 * @param scope - one space-free scope string.
 * @returns undefined for anything that is not a resource scope this engine enforces, including
 *   every scope with a `?` filter.
 */
export function parseScope(scope: string): ParsedScope | undefined {
  const m = SCOPE_PATTERN.exec(scope);
  if (m === null) return undefined;
  const [, context, resourceType, perms] = m;
  if (context === undefined || resourceType === undefined || perms === undefined || perms === '') {
    return undefined;
  }
  const letters = V1_LETTERS[perms] ?? LETTERS.filter((l) => perms.includes(l));
  return {
    context: context as ParsedScope['context'],
    resourceType,
    interactions: new Set(letters),
  };
}

/**
 * Splits a space-separated scope parameter, dropping empty entries and duplicates.
 * @param scope - e.g. the `scope` form field or a registration's `scope`.
 */
export function splitScopes(scope: string): string[] {
  return [...new Set(scope.split(/\s+/).filter((s) => s !== ''))];
}

function narrow(requested: ParsedScope, registered: ParsedScope): string | undefined {
  if (requested.context !== registered.context) return undefined;
  let resourceType: string;
  if (requested.resourceType === '*') resourceType = registered.resourceType;
  else if (registered.resourceType === '*' || registered.resourceType === requested.resourceType) {
    resourceType = requested.resourceType;
  } else return undefined;
  const letters = LETTERS.filter((l) => requested.interactions.has(l) && registered.interactions.has(l));
  return letters.length > 0 ? `${requested.context}/${resourceType}.${letters.join('')}` : undefined;
}

function covers(registered: ParsedScope, requested: ParsedScope): boolean {
  return (
    registered.context === requested.context &&
    (registered.resourceType === '*' || registered.resourceType === requested.resourceType) &&
    [...requested.interactions].every((l) => registered.interactions.has(l))
  );
}

/**
 * The intersection of what was asked for and what is registered. A requested scope the
 * registration fully covers is granted as written (so v1 requests get v1 scopes back); one it
 * covers only in part is narrowed to the overlap in v2 letters. Unknown scopes are dropped, and
 * so is a scope with a `?` filter: never granted as written (nothing would enforce the filter)
 * nor without its filter (that would widen it).
 * @param requested - scopes from the token request.
 * @param registered - scopes from the client's registration.
 * @returns granted scopes without duplicates; empty means the request must fail with invalid_scope.
 */
export function grantScopes(requested: readonly string[], registered: readonly string[]): string[] {
  const allowed = registered.map(parseScope).filter((s): s is ParsedScope => s !== undefined);
  const granted = new Set<string>();
  for (const scope of requested) {
    const want = parseScope(scope);
    if (want === undefined) continue;
    if (allowed.some((have) => covers(have, want))) {
      granted.add(scope);
      continue;
    }
    for (const have of allowed) {
      const overlap = narrow(want, have);
      if (overlap !== undefined) granted.add(overlap);
    }
  }
  return [...granted];
}
