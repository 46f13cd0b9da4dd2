/**
 * Replay protection for client assertions. Used `jti` values live in PostgreSQL, not in memory,
 * so an assertion accepted by one engine process is refused by every other one.
 */
import type { Queryable } from '../store/db';

/** Records assertion IDs until they expire. */
export interface JtiStore {
  /**
   * Marks `jti` as used by `clientId` until `expiresAt`.
   * @returns true the first time, false if it was already used (a replay).
   */
  claim(clientId: string, jti: string, expiresAt: Date): Promise<boolean>;
  /** Deletes entries whose assertion has expired; returns how many it removed. */
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
    async claim(clientId, jti, expiresAt) {
      if (now() - lastPurge >= purgeIntervalMs) await purgeExpired();
      // Expired rows still block reuse until purged; an expired assertion is refused anyway.
      const rows = await db.query(
        `INSERT INTO auth_used_jti (client_id, jti, expires_at) VALUES ($1, $2, $3)
         ON CONFLICT (client_id, jti) DO NOTHING RETURNING jti`,
        [clientId, jti, expiresAt],
      );
      return rows.length === 1;
    },
    purgeExpired,
  };
}
