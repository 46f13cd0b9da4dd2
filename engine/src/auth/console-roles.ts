/**
 * What an analyst console role may do, as ordinary scopes: a console session becomes an
 * AccessContext like any bearer token, so every /api router keeps deciding with `allowsResource`
 * and no router needs to know about console users.
 */

/** The two console roles: an analyst reads, tests and replays; an admin also deploys. */
export type ConsoleRole = 'analyst' | 'admin';

export const CONSOLE_ROLES: readonly ConsoleRole[] = ['analyst', 'admin'];

/** The client id console sessions carry in their AccessContext and audit rows. */
export const CONSOLE_CLIENT_ID = 'console';

/**
 * SMART v2 letters in their canonical order (c r u d s), the only order the scope parser
 * accepts: the contract's `Message.rsu` is written `Message.rus` here.
 */
const ANALYST_SCOPES: readonly string[] = [
  // read, search, replay
  'system/Message.rus',
  // read, dry-run, golden tests
  'system/Mapping.rs',
  'system/Delivery.rus',
  'system/Operations.rs',
  'system/IdentityReview.rs',
];

const ADMIN_SCOPES: readonly string[] = [
  ...ANALYST_SCOPES,
  // deploy and roll back mappings
  'system/Mapping.u',
  // Bull Board
  'system/Queue.u',
];

/** The scopes a console session of `role` carries. */
export function scopesOf(role: ConsoleRole): readonly string[] {
  return role === 'admin' ? ADMIN_SCOPES : ANALYST_SCOPES;
}

/** The audit subject of a console user. */
export function consoleSubject(userName: string): string {
  return `console-user/${userName}`;
}

/** Type guard for values read from the database or a token. */
export function isConsoleRole(value: unknown): value is ConsoleRole {
  return value === 'analyst' || value === 'admin';
}
