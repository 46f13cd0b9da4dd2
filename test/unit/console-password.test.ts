/**
 * Console password hashes and the users file: scrypt round trips, a hash says its own cost, a
 * tampered or out-of-bounds hash is refused, and the users file is validated as a whole.
 */
import { describe, expect, it } from 'vitest';
import {
  hashPassword,
  parsePasswordHash,
  SCRYPT_COST,
  UNKNOWN_USER_HASH,
  verifyPassword,
} from '../../engine/src/auth/console-password';
import { parseConsoleUsers } from '../../engine/src/auth/console-users';

describe('console password hashes', () => {
  it('verifies the password it hashed, and nothing else', async () => {
    const hash = await hashPassword('correct horse battery staple');
    expect(hash).toMatch(/^scrypt\$32768\$8\$1\$[A-Za-z0-9_-]{22}\$[A-Za-z0-9_-]{43}$/);
    expect(await verifyPassword('correct horse battery staple', hash)).toBe(true);
    expect(await verifyPassword('correct horse battery stapl', hash)).toBe(false);
    expect(await verifyPassword('', hash)).toBe(false);
    // A fresh salt each time.
    expect(await hashPassword('correct horse battery staple')).not.toBe(hash);
  });

  it('treats composed and decomposed accents as the same password', async () => {
    const hash = await hashPassword('caf\u00e9');
    expect(await verifyPassword('cafe\u0301', hash)).toBe(true);
  });

  it('verifies with the cost stored in the hash', async () => {
    const hash = await hashPassword('pw');
    const { cost } = parsePasswordHash(hash);
    expect(cost).toEqual(SCRYPT_COST);
    expect(parsePasswordHash(UNKNOWN_USER_HASH).cost).toEqual(SCRYPT_COST);
  });

  it('verifies within about a tenth of a second', async () => {
    const hash = await hashPassword('pw');
    const started = performance.now();
    await verifyPassword('pw', hash);
    // Generous for a loaded CI machine; on one idle core it is 60 to 120 ms.
    expect(performance.now() - started).toBeLessThan(1_000);
  });

  it('refuses malformed hashes and unbounded parameters', () => {
    expect(() => parsePasswordHash('plain-text-password')).toThrow(/scrypt\$N\$r\$p/);
    expect(() => parsePasswordHash(UNKNOWN_USER_HASH.replace('$32768$', '$30000$'))).toThrow(/power of two/);
    expect(() => parsePasswordHash(UNKNOWN_USER_HASH.replace('$32768$', '$2097152$'))).toThrow(
      /power of two/,
    );
    expect(() => parsePasswordHash(UNKNOWN_USER_HASH.replace('$8$1$', '$0$1$'))).toThrow(/r must/);
    expect(() => parsePasswordHash(UNKNOWN_USER_HASH.replace('$32768$8$', '$1048576$32$'))).toThrow(
      /256 MiB/,
    );
  });
});

describe('console users file', () => {
  const user = (name: string, role = 'analyst'): Record<string, string> => ({
    name,
    role,
    passwordHash: UNKNOWN_USER_HASH,
  });

  it('reads valid users', () => {
    const users = parseConsoleUsers(
      JSON.stringify({ users: [user('alice', 'admin'), user('bob')] }),
      'f.json',
    );
    expect(users.map((u) => [u.name, u.role])).toEqual([
      ['alice', 'admin'],
      ['bob', 'analyst'],
    ]);
  });

  it('lists every problem at once', () => {
    const text = JSON.stringify({
      users: [
        user('alice'),
        user('Alice'),
        user('bad name'),
        user('carol', 'root'),
        { ...user('dan'), passwordHash: 'x' },
      ],
    });
    let message = '';
    try {
      parseConsoleUsers(text, 'f.json');
    } catch (err) {
      message = (err as Error).message;
    }
    expect(message).toMatch(/^CONSOLE_USERS_FILE f\.json:/);
    expect(message).toMatch(/users\.1\.name is a duplicate/);
    expect(message).toMatch(/users\.2\.name/);
    expect(message).toMatch(/users\.3\.role/);
    expect(message).toMatch(/users\.4\.passwordHash/);
  });

  it('refuses what is not JSON or has unknown fields', () => {
    expect(() => parseConsoleUsers('{', 'f.json')).toThrow(/not JSON/);
    expect(() =>
      parseConsoleUsers(JSON.stringify({ users: [{ ...user('a'), password: 'pw' }] }), 'f.json'),
    ).toThrow(/password/);
  });
});
