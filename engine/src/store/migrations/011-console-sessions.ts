import type { Migration } from './migration';

/**
 * Analyst console sign-in (auth/console-sessions.ts, auth/console-oidc.ts). Sessions live in the
 * database so every HTTP process of a split deployment honours them, and a sign-out ends them at
 * once everywhere.
 * - `console_sessions`: only the SHA-256 of the random session id is stored, so a database read
 *   (a backup, a replica) yields no usable cookie; `csrf_token` is the value every changing
 *   request must echo in `X-CSRF-Token`.
 * - `console_oidc_logins`: an OpenID Connect sign-in between the redirect to the provider and
 *   its callback (state, nonce, PKCE verifier), keyed by the SHA-256 of a cookie the browser
 *   holds, used once and kept ten minutes at most.
 */
export const consoleSessions: Migration = {
  version: 11,
  name: 'console-sessions',
  sql: `
CREATE TABLE console_sessions (
  id_hash      TEXT PRIMARY KEY,
  user_name    TEXT NOT NULL,
  role         TEXT NOT NULL CHECK (role IN ('analyst', 'admin')),
  csrf_token   TEXT NOT NULL,
  method       TEXT NOT NULL CHECK (method IN ('password', 'oidc')),
  created_at   TIMESTAMPTZ NOT NULL DEFAULT now(),
  expires_at   TIMESTAMPTZ NOT NULL,
  last_seen_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX console_sessions_expires_at ON console_sessions (expires_at);

CREATE TABLE console_oidc_logins (
  id_hash       TEXT PRIMARY KEY,
  state         TEXT NOT NULL,
  nonce         TEXT NOT NULL,
  code_verifier TEXT NOT NULL,
  expires_at    TIMESTAMPTZ NOT NULL
);
CREATE INDEX console_oidc_logins_expires_at ON console_oidc_logins (expires_at);
`,
};
