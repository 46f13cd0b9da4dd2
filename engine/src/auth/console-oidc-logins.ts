/**
 * An OpenID Connect sign-in between the redirect to the provider and its callback: the state,
 * nonce and PKCE verifier the callback is checked against, in `console_oidc_logins` (migration
 * 11) under the SHA-256 of a random id the browser holds in a cookie. Server-side rather than in
 * a signed cookie, so no signing key has to be shared between HTTP processes and each login can
 * be used once: `take` deletes it.
 */
import type { Queryable } from '../store/db';
import { hashToken, randomToken } from './console-sessions';

/** What the callback is checked against. */
export interface PendingOidcLogin {
  readonly state: string;
  readonly nonce: string;
  readonly codeVerifier: string;
}

export interface OidcLoginStore {
  /** Keeps a pending login for `ttlMs`; returns the id for the browser's cookie. */
  save(login: PendingOidcLogin, ttlMs: number): Promise<string>;
  /** The pending login behind a cookie, removed so it cannot be used twice; undefined when unknown or expired. */
  take(id: string): Promise<PendingOidcLogin | undefined>;
}

const LOGIN_ID_RE = /^[A-Za-z0-9_-]{43}$/;

/** @param db - the engine database. */
export function createOidcLoginStore(db: Queryable): OidcLoginStore {
  return {
    async save(login, ttlMs) {
      const now = Date.now();
      // Abandoned sign-ins are few and short-lived: clearing them on each new one is enough.
      await db.query('DELETE FROM console_oidc_logins WHERE expires_at <= $1', [new Date(now)]);
      const id = randomToken();
      await db.query(
        `INSERT INTO console_oidc_logins (id_hash, state, nonce, code_verifier, expires_at)
         VALUES ($1, $2, $3, $4, $5)`,
        [hashToken(id), login.state, login.nonce, login.codeVerifier, new Date(now + ttlMs)],
      );
      return id;
    },
    async take(id) {
      if (!LOGIN_ID_RE.test(id)) return undefined;
      const [row] = await db.query<{ state: string; nonce: string; code_verifier: string }>(
        `DELETE FROM console_oidc_logins WHERE id_hash = $1 AND expires_at > $2
         RETURNING state, nonce, code_verifier`,
        [hashToken(id), new Date()],
      );
      return row === undefined
        ? undefined
        : { state: row.state, nonce: row.nonce, codeVerifier: row.code_verifier };
    },
  };
}
