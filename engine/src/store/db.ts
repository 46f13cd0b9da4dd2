/**
 * One SQL code path over two engines: PostgreSQL (node-postgres pool) when DATABASE_URL is set,
 * embedded PGlite otherwise. Callers see only `Db`, so every query is written once. A PGlite data
 * directory is locked while open (data-dir-lock.ts): one engine per directory.
 */
import { mkdirSync } from 'node:fs';
import pg from 'pg';
import { PGlite } from '@electric-sql/pglite';
import { lockDataDir } from './data-dir-lock';

/** Something that runs parameterised SQL: the database itself or an open transaction. */
export interface Queryable {
  query<R extends object = Record<string, unknown>>(sql: string, params?: readonly unknown[]): Promise<R[]>;
  /** Runs a script of several statements without parameters (migrations). */
  exec(sql: string): Promise<void>;
}

export interface Db extends Queryable {
  readonly kind: 'postgres' | 'pglite';
  /** Runs `fn` in one transaction; it commits when `fn` resolves and rolls back when it throws. */
  transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

export interface DbOptions {
  /** postgres://... ; undefined selects PGlite in `dataDir`. */
  readonly url?: string;
  /** Schema every query runs in; created if missing. Tests use one schema each. */
  readonly schema: string;
  /** PGlite data directory; `memory://` keeps it in memory. */
  readonly dataDir: string;
  /** @defaultValue 10 */
  readonly poolSize?: number;
  /**
   * Told of errors a connection raises outside any query (the server reset or went away), which
   * would otherwise crash the process as an unhandled `'error'` event.
   */
  readonly onConnectionError?: (err: Error) => void;
  /**
   * How long a statement may wait for a lock (a patient's order lock, a row) before it fails as
   * transient and its job retries: a stalled transaction must not hold every worker.
   * @defaultValue 20000
   */
  readonly lockTimeoutMs?: number;
  /** Told once when a query succeeds after a connection error was reported. */
  readonly onConnectionRestored?: () => void;
}

/** Opens the database named by the options and makes sure the schema exists. */
export async function openDb(options: DbOptions): Promise<Db> {
  return options.url !== undefined ? openPostgres(options.url, options) : openPglite(options);
}

function quoteIdent(name: string): string {
  if (!/^[a-z_][a-z0-9_]*$/.test(name)) throw new Error(`unsafe schema name: ${name}`);
  return `"${name}"`;
}

async function openPostgres(url: string, options: DbOptions): Promise<Db> {
  const schema = quoteIdent(options.schema);
  const pool = new pg.Pool({
    connectionString: url,
    max: options.poolSize ?? 10,
    options: `-c search_path=${schema},public -c lock_timeout=${Math.trunc(options.lockTimeoutMs ?? 20_000)}`,
    connectionTimeoutMillis: 5_000,
  });
  let failing = false;
  const onConnectionError = (err: Error): void => {
    failing = true;
    options.onConnectionError?.(err);
  };
  const restored = (): void => {
    if (!failing) return;
    failing = false;
    options.onConnectionRestored?.();
  };
  // An idle client losing its server must not crash the process; the next query reports it.
  pool.on('error', onConnectionError);
  await pool.query(`CREATE SCHEMA IF NOT EXISTS ${schema}`);
  const run = async <R extends object>(
    client: pg.Pool | pg.PoolClient,
    sql: string,
    params?: readonly unknown[],
  ): Promise<R[]> => {
    try {
      const rows = (await client.query<R>(sql, params as unknown[] | undefined)).rows;
      restored();
      return rows;
    } catch (err) {
      // A refused or reset connection surfaces here, not as an 'error' event.
      if (isConnectionError(err)) onConnectionError(err);
      throw err;
    }
  };
  return {
    kind: 'postgres',
    query: (sql, params) => run(pool, sql, params),
    exec: async (sql) => {
      await pool.query(sql);
    },
    async transaction(fn) {
      const client = await pool.connect();
      // A checked-out client has no pool listener: a reset mid-transaction emits 'error' on the
      // client itself. Heard here, the running query fails as usual and the client is discarded.
      let broken: Error | undefined;
      const onError = (err: Error): void => {
        broken = err;
        onConnectionError(err);
      };
      client.on('error', onError);
      try {
        await client.query('BEGIN');
        const result = await fn({
          query: (sql, params) => run(client, sql, params),
          exec: async (sql) => {
            await client.query(sql);
          },
        });
        await client.query('COMMIT');
        return result;
      } catch (err) {
        await client.query('ROLLBACK').catch((rollbackErr: unknown) => {
          broken ??= rollbackErr instanceof Error ? rollbackErr : new Error(String(rollbackErr));
        });
        throw err;
      } finally {
        client.off('error', onError);
        // A client whose connection failed is destroyed rather than handed to the next caller.
        client.release(broken);
      }
    },
    close: () => pool.end(),
  };
}

/** Errors of the connection rather than of the statement (those carry a SQLSTATE code). */
function isConnectionError(err: unknown): err is Error {
  if (!(err instanceof Error)) return false;
  const code = (err as { code?: unknown }).code;
  return typeof code === 'string' ? !/^[0-9A-Z]{5}$/.test(code) || code.startsWith('08') : true;
}

async function openPglite(options: DbOptions): Promise<Db> {
  const inMemory = options.dataDir.startsWith('memory://');
  if (!inMemory) mkdirSync(options.dataDir, { recursive: true });
  // Before PGlite touches the files: it would let a second engine open them too.
  const dirLock = inMemory ? undefined : await lockDataDir(options.dataDir);
  let lite: PGlite | undefined;
  try {
    lite = await PGlite.create(options.dataDir);
    const schema = quoteIdent(options.schema);
    await lite.exec(`CREATE SCHEMA IF NOT EXISTS ${schema}; SET search_path TO ${schema}, public;`);
  } catch (err) {
    await lite?.close().catch(() => undefined);
    await dirLock?.release().catch(() => undefined);
    throw err;
  }
  const db = lite;
  // Once another process may own the directory, nothing more of ours may reach its files.
  const owned = (): void => {
    if (dirLock?.lost !== undefined) throw dirLock.lost;
  };
  return {
    kind: 'pglite',
    query: async (sql, params) => {
      owned();
      return (await db.query(sql, params as unknown[] | undefined)).rows as never;
    },
    exec: async (sql) => {
      owned();
      await db.exec(sql);
    },
    transaction: async (fn) => {
      owned();
      return db.transaction((tx) =>
        fn({
          query: async (sql, params) => {
            owned();
            return (await tx.query(sql, params as unknown[] | undefined)).rows as never;
          },
          exec: async (sql) => {
            owned();
            await tx.exec(sql);
          },
        }),
      );
    },
    async close() {
      try {
        // Closing checkpoints to disk: skipped when the directory may be another engine's now.
        if (dirLock?.lost === undefined) await db.close();
      } finally {
        await dirLock?.release();
      }
    },
  };
}
