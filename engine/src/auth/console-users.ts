/**
 * The analyst console's users file (CONSOLE_USERS_FILE): `{"users": [{"name", "role",
 * "passwordHash"}]}`. The engine validates it at start and rereads it when it changes, so
 * `npm run console-user` takes effect without a restart; the CLI writes it atomically, so the
 * engine never reads half a file.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync, statSync, type Stats } from 'node:fs';
import { chmod, mkdir, open, rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import { CodedError } from '../errors/coded-error';
import { CONSOLE_ROLES, type ConsoleRole } from './console-roles';
import { parsePasswordHash } from './console-password';

/** One console user as the file holds it. */
export interface ConsoleUser {
  readonly name: string;
  readonly role: ConsoleRole;
  readonly passwordHash: string;
}

/** Letters, digits and `._@-`, starting with a letter or digit: safe in audit subjects and logs. */
export const CONSOLE_USER_NAME_RE = /^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$/;

const userSchema = z.strictObject({
  name: z
    .string()
    .regex(CONSOLE_USER_NAME_RE, 'must be 1 to 64 of A-Z a-z 0-9 . _ @ - (starting alphanumeric)'),
  role: z.enum(CONSOLE_ROLES),
  passwordHash: z.string().superRefine((v, ctx) => {
    try {
      parsePasswordHash(v);
    } catch (err) {
      ctx.addIssue({ code: 'custom', message: (err as Error).message });
    }
  }),
});

const fileSchema = z.strictObject({ users: z.array(userSchema) });

/**
 * Names used twice, differing at most in case (two accounts one person cannot tell apart).
 * Checked on the raw JSON, so a duplicate is reported beside every other problem: zod skips an
 * object's refinements once one of its fields failed.
 */
function duplicateNames(json: unknown): string[] {
  const users: unknown =
    typeof json === 'object' && json !== null ? (json as { users?: unknown }).users : undefined;
  if (!Array.isArray(users)) return [];
  const seen = new Set<string>();
  const problems: string[] = [];
  users.forEach((u: unknown, i) => {
    const name: unknown = typeof u === 'object' && u !== null ? (u as { name?: unknown }).name : undefined;
    if (typeof name !== 'string') return;
    const key = name.toLowerCase();
    if (seen.has(key)) problems.push(`users.${i}.name is a duplicate`);
    seen.add(key);
  });
  return problems;
}

/** The users file cannot be read or does not validate; every problem is listed. */
export class ConsoleUsersError extends CodedError<'console-users-invalid'> {
  override readonly name = 'ConsoleUsersError';
  constructor(file: string, problems: readonly string[]) {
    super('console-users-invalid', `CONSOLE_USERS_FILE ${file}: ${problems.join('; ')}`);
  }
}

/**
 * Parses the file's text.
 * @param file - its path, for the error message.
 * @throws ConsoleUsersError listing every problem.
 */
export function parseConsoleUsers(text: string, file: string): readonly ConsoleUser[] {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new ConsoleUsersError(file, [`not JSON (${(err as Error).message})`]);
  }
  const parsed = fileSchema.safeParse(json);
  const problems = [
    ...(parsed.success
      ? []
      : parsed.error.issues.map((i) => `${i.path.map(String).join('.') || '(file)'} ${i.message}`)),
    ...duplicateNames(json),
  ];
  if (!parsed.success || problems.length > 0) throw new ConsoleUsersError(file, problems);
  return parsed.data.users;
}

function isMissing(err: unknown): boolean {
  return (err as NodeJS.ErrnoException).code === 'ENOENT';
}

/**
 * Reads the file; a file that does not exist yet holds no users (the CLI creates it).
 * @throws ConsoleUsersError when it exists but is invalid.
 */
export function readConsoleUsersFile(file: string): readonly ConsoleUser[] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    if (isMissing(err)) return [];
    throw new ConsoleUsersError(file, [(err as Error).message]);
  }
  return parseConsoleUsers(text, file);
}

/**
 * Replaces the file in one step: written to a temporary file beside it (owner-only, since it
 * holds hashes), flushed, then renamed over it, so a reader sees the old file or the new one.
 */
export async function writeConsoleUsersFile(file: string, users: readonly ConsoleUser[]): Promise<void> {
  const dir = path.dirname(file);
  await mkdir(dir, { recursive: true });
  const tmp = path.join(dir, `.${path.basename(file)}.${randomBytes(6).toString('hex')}.tmp`);
  const handle = await open(tmp, 'wx', 0o600);
  try {
    await handle.writeFile(`${JSON.stringify({ users }, null, 2)}\n`, 'utf8');
    await handle.sync();
  } finally {
    await handle.close();
  }
  try {
    await chmod(tmp, 0o600);
    await rename(tmp, file);
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
}

/** The users the engine signs in, current with the file. */
export interface ConsoleUserDirectory {
  /** False when CONSOLE_USERS_FILE is unset: password sign-in is off. */
  readonly configured: boolean;
  /**
   * The user of this exact name, rereading the file first if it changed since the last look.
   * @throws ConsoleUsersError when the changed file is invalid: sign-in refuses rather than
   *   trusting a stale list (which could still hold a removed user).
   */
  find(name: string): Promise<ConsoleUser | undefined>;
}

/** What identifies one version of the file without reading it. */
function versionOf(s: Stats | undefined): string {
  return s === undefined ? 'missing' : `${s.ino}:${s.size}:${s.mtimeMs}`;
}

async function statOrMissing(file: string): Promise<Stats | undefined> {
  try {
    return await stat(file);
  } catch (err) {
    if (isMissing(err)) return undefined;
    throw err;
  }
}

/**
 * Loads the users file now (an invalid one stops the start) and keeps it current.
 * @param file - CONSOLE_USERS_FILE; undefined for none.
 * @throws ConsoleUsersError when the file exists and is invalid.
 */
export function openConsoleUserDirectory(file: string | undefined): ConsoleUserDirectory {
  if (file === undefined) return { configured: false, find: () => Promise.resolve(undefined) };
  let version = (() => {
    try {
      return versionOf(statSync(file));
    } catch (err) {
      if (isMissing(err)) return versionOf(undefined);
      throw err;
    }
  })();
  let users = readConsoleUsersFile(file);
  return {
    configured: true,
    async find(name) {
      const now = versionOf(await statOrMissing(file));
      if (now !== version) {
        users = readConsoleUsersFile(file);
        version = now;
      }
      return users.find((u) => u.name === name);
    },
  };
}
