/**
 * Replay protection for client assertions. Used `jti` values live in PostgreSQL, not in memory,
 * so an assertion accepted by one engine process is refused by every other one.
 */
import type { Queryable } from '../store/db';

/** Records assertion IDs until they expire. */
export interface JtiStore {
  /**
   * Marks `jti` as used by `clientId` until `keepUntil`.
   * @param keepUntil - the last moment the assertion could still be accepted: its `exp` plus the
   *   clock tolerance (client-assertion.ts), not `exp` alone, or it could be replayed in between.
   * @returns true the first time, false if it was already used (a replay).
   */
  claim(clientId: string, jti: string, keepUntil: Date): Promise<boolean>;
  /** Deletes entries past their `keepUntil`; returns how many it removed. */
  purgeExpired(): Promise<number>;
}

export interface JtiStoreOptions {
  /**
   * `claim` purges expired entries at most this often, so no separate timer is needed.
   * @defaultValue 60000
   */
  readonly purgeIntervalMs?: number;
  /** @defaultValue Date.now */
  readonly now?: () => number;
}

/**
 * A JtiStore over the `auth_used_jti` table (migration 2).
 * @param db - the engine database or a transaction.
 */
export function createJtiStore(db: Queryable, options: JtiStoreOptions = {}): JtiStore {
  const now = options.now ?? Date.now;
  const purgeIntervalMs = options.purgeIntervalMs ?? 60_000;
  let lastPurge = Number.NEGATIVE_INFINITY;

  const purgeExpired = async (): Promise<number> => {
    lastPurge = now();
    const rows = await db.query('DELETE FROM auth_used_jti WHERE expires_at < $1 RETURNING jti', [
      new Date(lastPurge),
    ]);
    return rows.length;
  };

  return {
    async claim(clientId, jti, keepUntil) {
      if (now() - lastPurge >= purgeIntervalMs) await purgeExpired();
      // A row is purged only once its assertion can no longer be accepted, so a purged jti
      // cannot come back; rows past keepUntil but not yet purged still block reuse.
      const rows = await db.query(
        `INSERT INTO auth_used_jti (client_id, jti, expires_at) VALUES ($1, $2, $3)
         ON CONFLICT (client_id, jti) DO NOTHING RETURNING jti`,
        [clientId, jti, keepUntil],
      );
      return rows.length === 1;
    },
    purgeExpired,
  };
}
