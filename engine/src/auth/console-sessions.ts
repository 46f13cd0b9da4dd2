/**
 * Analyst console sessions in PostgreSQL (migration 11): the browser holds a random id in its
 * cookie, the table holds only that id's SHA-256, its user, role, CSRF token and expiry. Expired
 * rows are removed as sessions are created, so no timer is needed.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { Queryable } from '../store/db';
import { isConsoleRole, type ConsoleRole } from './console-roles';

/** How the user signed in. */
export type ConsoleSignInMethod = 'password' | 'oidc';

/** One signed-in analyst. */
export interface ConsoleSession {
  readonly userName: string;
  readonly role: ConsoleRole;
  /** Every changing request authenticated by this session must send it as `X-CSRF-Token`. */
  readonly csrfToken: string;
  readonly method: ConsoleSignInMethod;
  readonly createdAt: Date;
  readonly expiresAt: Date;
}

export interface ConsoleSessionStore {
  /** Starts a session; `id` goes into the cookie and nowhere else. */
  create(user: {
    readonly userName: string;
    readonly role: ConsoleRole;
    readonly method: ConsoleSignInMethod;
  }): Promise<{ readonly id: string; readonly session: ConsoleSession }>;
  /** The live session behind a cookie value; undefined when unknown, malformed or expired. */
  find(id: string): Promise<ConsoleSession | undefined>;
  /** Ends a session (sign-out, or a user removed from the users file). */
  delete(id: string): Promise<void>;
}

export interface ConsoleSessionStoreOptions {
  /** CONSOLE_SESSION_HOURS: a session ends this long after sign-in, however active. */
  readonly ttlMs: number;
  /**
   * Expired rows are purged at most this often, on `create`.
   * @defaultValue 60000
   */
  readonly purgeIntervalMs?: number;
}

/** 32 random bytes in base64url: what a cookie value must look like before it is looked up. */
const SESSION_ID_RE = /^[A-Za-z0-9_-]{43}$/;

/** `last_seen_at` is refreshed at most this often, so a busy console does not write on every request. */
const LAST_SEEN_GRANULARITY_MS = 60_000;

/** SHA-256 of a random token, hex: what the tables store instead of the token itself. */
export function hashToken(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

/** A fresh random token (session id, CSRF token, login id). */
export function randomToken(): string {
  return randomBytes(32).toString('base64url');
}

interface SessionRow {
  readonly user_name: string;
  readonly role: string;
  readonly csrf_token: string;
  readonly method: string;
  readonly created_at: Date;
  readonly expires_at: Date;
  readonly last_seen_at: Date;
}

function sessionOf(row: SessionRow): ConsoleSession | undefined {
  if (!isConsoleRole(row.role) || (row.method !== 'password' && row.method !== 'oidc')) return undefined;
  return {
    userName: row.user_name,
    role: row.role,
    csrfToken: row.csrf_token,
    method: row.method,
    createdAt: new Date(row.created_at),
    expiresAt: new Date(row.expires_at),
  };
}

/**
 * A session store over `console_sessions`.
 * @param db - the engine database.
 */
export function createConsoleSessionStore(
  db: Queryable,
  options: ConsoleSessionStoreOptions,
): ConsoleSessionStore {
  const purgeIntervalMs = options.purgeIntervalMs ?? 60_000;
  let lastPurge = Number.NEGATIVE_INFINITY;

  return {
    async create(user) {
      const now = Date.now();
      if (now - lastPurge >= purgeIntervalMs) {
        lastPurge = now;
        await db.query('DELETE FROM console_sessions WHERE expires_at <= $1', [new Date(now)]);
      }
      const id = randomToken();
      const session: ConsoleSession = {
        ...user,
        csrfToken: randomToken(),
        createdAt: new Date(now),
        expiresAt: new Date(now + options.ttlMs),
      };
      await db.query(
        `INSERT INTO console_sessions
           (id_hash, user_name, role, csrf_token, method, created_at, expires_at, last_seen_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $6)`,
        [
          hashToken(id),
          session.userName,
          session.role,
          session.csrfToken,
          session.method,
          session.createdAt,
          session.expiresAt,
        ],
      );
      return { id, session };
    },

    async find(id) {
      if (!SESSION_ID_RE.test(id)) return undefined;
      const idHash = hashToken(id);
      const now = new Date();
      const [row] = await db.query<SessionRow>(
        `SELECT user_name, role, csrf_token, method, created_at, expires_at, last_seen_at
           FROM console_sessions WHERE id_hash = $1 AND expires_at > $2`,
        [idHash, now],
      );
      if (row === undefined) return undefined;
      if (now.getTime() - new Date(row.last_seen_at).getTime() >= LAST_SEEN_GRANULARITY_MS) {
        await db.query('UPDATE console_sessions SET last_seen_at = $2 WHERE id_hash = $1', [idHash, now]);
      }
      return sessionOf(row);
    },

    async delete(id) {
      if (!SESSION_ID_RE.test(id)) return;
      await db.query('DELETE FROM console_sessions WHERE id_hash = $1', [hashToken(id)]);
    },
  };
}
