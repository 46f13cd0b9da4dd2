/**
 * `npm run console-user`: manages the analyst console's users file (CONSOLE_USERS_FILE) so no one
 * edits hashes by hand. The password comes from stdin (one line), never from the command line,
 * where `ps` and shell history would keep it; at a terminal it is asked for without echo.
 */
import { parseArgs } from 'node:util';
import { CONSOLE_ROLES, isConsoleRole } from '../auth/console-roles';
import { hashPassword, MAX_PASSWORD_LENGTH } from '../auth/console-password';
import {
  CONSOLE_USER_NAME_RE,
  readConsoleUsersFile,
  writeConsoleUsersFile,
  type ConsoleUser,
} from '../auth/console-users';
import { loadConfig } from '../config/schema';

const USAGE = `usage:
  npm run console-user -- add NAME --role analyst|admin [--replace] [--file PATH]   (password on stdin)
  npm run console-user -- remove NAME [--file PATH]
  npm run console-user -- list [--file PATH]
The file is --file, else CONSOLE_USERS_FILE. --replace sets a new password and role for an
existing user.`;

/** A mistake in how the command was called: exit code 2 with the usage. */
class UsageError extends Error {
  override readonly name = 'UsageError';
}

/** Reads one line from a terminal without echoing it. */
function promptHidden(prompt: string): Promise<string> {
  const stdin = process.stdin;
  process.stderr.write(prompt);
  stdin.setRawMode(true);
  stdin.resume();
  stdin.setEncoding('utf8');
  let line = '';
  return new Promise((resolve, reject) => {
    const done = (err?: Error): void => {
      stdin.setRawMode(false);
      stdin.pause();
      stdin.off('data', onData);
      process.stderr.write('\n');
      if (err !== undefined) reject(err);
      else resolve(line);
    };
    const onData = (chunk: string): void => {
      for (const ch of chunk) {
        if (ch === '\r' || ch === '\n') return done();
        if (ch === '\u0003') return done(new Error('cancelled'));
        if (ch === '\u007f' || ch === '\b') line = line.slice(0, -1);
        else line += ch;
      }
    };
    stdin.on('data', onData);
  });
}

/** The first line of piped stdin, without its line ending. */
async function readFirstLine(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  const text = Buffer.concat(chunks).toString('utf8');
  const end = text.indexOf('\n');
  return (end === -1 ? text : text.slice(0, end)).replace(/\r$/, '');
}

async function readPassword(name: string): Promise<string> {
  let password: string;
  if (process.stdin.isTTY) {
    password = await promptHidden(`Password for ${name}: `);
    if (password !== '' && (await promptHidden('Repeat it: ')) !== password) {
      throw new UsageError('error: the passwords do not match');
    }
  } else {
    password = await readFirstLine();
  }
  if (password === '') throw new UsageError('error: the password is empty (give it on stdin, one line)');
  if (password.length > MAX_PASSWORD_LENGTH) {
    throw new UsageError(`error: the password is longer than ${MAX_PASSWORD_LENGTH} characters`);
  }
  return password;
}

function checkName(name: string | undefined): string {
  if (name === undefined) throw new UsageError(`error: a user NAME is required\n${USAGE}`);
  if (!CONSOLE_USER_NAME_RE.test(name)) {
    throw new UsageError(
      `error: user name '${name}' is invalid: 1 to 64 of A-Z a-z 0-9 . _ @ - (starting alphanumeric)`,
    );
  }
  return name;
}

async function add(file: string, name: string, role: string | undefined, replace: boolean): Promise<void> {
  if (!isConsoleRole(role)) {
    throw new UsageError(`error: --role must be one of ${CONSOLE_ROLES.join(', ')}\n${USAGE}`);
  }
  const users = readConsoleUsersFile(file);
  const existing = users.find((u) => u.name.toLowerCase() === name.toLowerCase());
  if (existing !== undefined && !replace) {
    throw new UsageError(
      `error: user '${existing.name}' already exists (--replace sets a new password and role)`,
    );
  }
  const password = await readPassword(name);
  const user: ConsoleUser = { name, role, passwordHash: await hashPassword(password) };
  await writeConsoleUsersFile(file, [...users.filter((u) => u !== existing), user]);
  process.stdout.write(`${existing === undefined ? 'added' : 'replaced'} ${name} (${role}) in ${file}\n`);
}

async function remove(file: string, name: string): Promise<void> {
  const users = readConsoleUsersFile(file);
  const kept = users.filter((u) => u.name !== name);
  if (kept.length === users.length) throw new UsageError(`error: no user '${name}' in ${file}`);
  await writeConsoleUsersFile(file, kept);
  // The engine rereads the file: the user's open sessions end at their next request.
  process.stdout.write(`removed ${name} from ${file}\n`);
}

function list(file: string): void {
  for (const u of readConsoleUsersFile(file)) process.stdout.write(`${u.name}\t${u.role}\n`);
}

async function main(): Promise<void> {
  let parsed;
  try {
    parsed = parseArgs({
      allowPositionals: true,
      options: {
        role: { type: 'string' },
        file: { type: 'string' },
        replace: { type: 'boolean', default: false },
      },
    });
  } catch (err) {
    throw new UsageError(`error: ${(err as Error).message}\n${USAGE}`);
  }
  const { positionals, values } = parsed;
  // Read through the engine's own schema, so the CLI and `npm start` agree on the file.
  const file = values.file ?? loadConfig(process.env).console.usersFile;
  if (file === undefined || file === '') {
    throw new UsageError(`error: set CONSOLE_USERS_FILE or pass --file\n${USAGE}`);
  }
  const [command, name, ...extra] = positionals;
  const expected = command === 'list' ? 1 : 2;
  if (positionals.length > expected || extra.length > 0) {
    throw new UsageError(`error: unexpected argument '${positionals[expected] ?? ''}'\n${USAGE}`);
  }
  if (command === 'add') await add(file, checkName(name), values.role, values.replace);
  else if (command === 'remove') await remove(file, checkName(name));
  else if (command === 'list') list(file);
  else throw new UsageError(USAGE);
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(err instanceof UsageError ? 2 : 1);
});
