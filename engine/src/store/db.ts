/**
 * One SQL code path over two engines: PostgreSQL (node-postgres pool) when DATABASE_URL is set,
 * embedded PGlite otherwise. Callers see only `Db`, so every query is written once.
 */
import { mkdirSync } from 'node:fs';
import pg from 'pg';
import { PGlite } from '@electric-sql/pglite';

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
    options: `-c search_path=${schema},public`,
    connectionTimeoutMillis: 5_000,
  });
  // An idle client losing its server must not crash the process; the next query reports it.
  pool.on('error', () => undefined);
  await pool.query(`CREATE SCHEMA IF NOT EXISTS ${schema}`);
  const run = async <R extends object>(
    client: pg.Pool | pg.PoolClient,
    sql: string,
    params?: readonly unknown[],
  ): Promise<R[]> => (await client.query<R>(sql, params as unknown[] | undefined)).rows;
  return {
    kind: 'postgres',
    query: (sql, params) => run(pool, sql, params),
    exec: async (sql) => {
      await pool.query(sql);
    },
    async transaction(fn) {
      const client = await pool.connect();
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
        await client.query('ROLLBACK').catch(() => undefined);
        throw err;
      } finally {
        client.release();
      }
    },
    close: () => pool.end(),
  };
}

async function openPglite(options: DbOptions): Promise<Db> {
  if (!options.dataDir.startsWith('memory://')) mkdirSync(options.dataDir, { recursive: true });
  const lite = await PGlite.create(options.dataDir);
  const schema = quoteIdent(options.schema);
  await lite.exec(`CREATE SCHEMA IF NOT EXISTS ${schema}; SET search_path TO ${schema}, public;`);
  return {
    kind: 'pglite',
    query: async (sql, params) => (await lite.query(sql, params as unknown[] | undefined)).rows as never,
    exec: async (sql) => {
      await lite.exec(sql);
    },
    transaction: (fn) =>
      lite.transaction((tx) =>
        fn({
          query: async (sql, params) => (await tx.query(sql, params as unknown[] | undefined)).rows as never,
          exec: async (sql) => {
            await tx.exec(sql);
          },
        }),
      ),
    close: () => lite.close(),
  };
}
