/**
 * Console password hashes: scrypt from node:crypto, stored as `scrypt$N$r$p$salt$hash` (salt and
 * hash base64url) so the cost can be raised later without breaking existing hashes. Node's scrypt
 * rather than a native argon2 binding: it needs no install script (npm here runs none) and no
 * prebuilt binary per platform, and scrypt is memory-hard too.
 */
import { randomBytes, scrypt, timingSafeEqual, type ScryptOptions } from 'node:crypto';
import { CodedError } from '../errors/coded-error';

/** Cost for new hashes: 32 MiB and about 60–120 ms per verification on one core. */
export const SCRYPT_COST = { N: 2 ** 15, r: 8, p: 1 } as const;

const SALT_BYTES = 16;
const KEY_BYTES = 32;

/**
 * Bounds on parameters read from a users file: a hand-edited hash with a huge N must not make
 * one login take the process's memory or minutes of CPU.
 */
const MAX_N = 2 ** 20;
const MAX_R = 32;
const MAX_P = 16;
const MAX_MEMORY_BYTES = 256 * 1024 * 1024;

/** Longest password accepted: scrypt reads all of it, and nobody types more. */
export const MAX_PASSWORD_LENGTH = 1024;

const HASH_RE = /^scrypt\$(\d{1,8})\$(\d{1,3})\$(\d{1,3})\$([A-Za-z0-9_-]{16,})\$([A-Za-z0-9_-]{32,})$/;

/** A stored hash that is not in the `scrypt$N$r$p$salt$hash` form or has parameters out of bounds. */
export class PasswordHashError extends CodedError<'password-hash-invalid'> {
  override readonly name = 'PasswordHashError';
  constructor(problem: string) {
    super('password-hash-invalid', `password hash ${problem}`);
  }
}

interface ParsedHash {
  readonly cost: { readonly N: number; readonly r: number; readonly p: number };
  readonly salt: Buffer;
  readonly key: Buffer;
}

/**
 * Takes a stored hash apart and checks its parameters.
 * @throws PasswordHashError when it is malformed.
 */
export function parsePasswordHash(stored: string): ParsedHash {
  const m = HASH_RE.exec(stored);
  if (m === null) throw new PasswordHashError('must look like scrypt$N$r$p$salt$hash (base64url)');
  const [, n = '', r = '', p = '', salt = '', key = ''] = m;
  const cost = { N: Number(n), r: Number(r), p: Number(p) };
  if (cost.N < 2 || cost.N > MAX_N || (cost.N & (cost.N - 1)) !== 0) {
    throw new PasswordHashError(`N must be a power of two from 2 to ${MAX_N}`);
  }
  if (cost.r < 1 || cost.r > MAX_R) throw new PasswordHashError(`r must be from 1 to ${MAX_R}`);
  if (cost.p < 1 || cost.p > MAX_P) throw new PasswordHashError(`p must be from 1 to ${MAX_P}`);
  if (memoryOf(cost) > MAX_MEMORY_BYTES) {
    throw new PasswordHashError('needs more than 256 MiB (N × r too large)');
  }
  return { cost, salt: Buffer.from(salt, 'base64url'), key: Buffer.from(key, 'base64url') };
}

/** scrypt's working memory: 128 × N × r bytes (p runs serially in node). */
function memoryOf(cost: ParsedHash['cost']): number {
  return 128 * cost.N * cost.r;
}

function deriveKey(password: string, salt: Buffer, bytes: number, cost: ParsedHash['cost']): Promise<Buffer> {
  // Node refuses scrypt above 32 MiB unless told: allow what these parameters need, no more.
  const options: ScryptOptions = { ...cost, maxmem: memoryOf(cost) + 1024 * 1024 };
  return new Promise((resolve, reject) => {
    scrypt(password.normalize('NFC'), salt, bytes, options, (err, key) => {
      if (err !== null) reject(err);
      else resolve(key);
    });
  });
}

/** Hashes a new password with a fresh salt at SCRYPT_COST. */
export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(SALT_BYTES);
  const key = await deriveKey(password, salt, KEY_BYTES, SCRYPT_COST);
  const { N, r, p } = SCRYPT_COST;
  return `scrypt$${N}$${r}$${p}$${salt.toString('base64url')}$${key.toString('base64url')}`;
}

/**
 * True when `password` matches `stored`; the comparison takes the same time wherever they differ.
 * @throws PasswordHashError when `stored` is malformed (the users file was validated, so a bug).
 */
export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const { cost, salt, key } = parsePasswordHash(stored);
  const derived = await deriveKey(password, salt, key.length, cost);
  return timingSafeEqual(derived, key);
}

/**
 * A hash of a random password nobody knows, at SCRYPT_COST: an unknown user name is verified
 * against it, so a login for a name that does not exist takes as long as one that does and the
 * answer time does not tell which names exist.
 */
export const UNKNOWN_USER_HASH =
  'scrypt$32768$8$1$DtruUEak6CpSofswrUNeeA$pJiO4YoUYDsaeBibSl3bAg368cudBCWJDBBjdCCKyXE';
