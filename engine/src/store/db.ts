/**
 * One SQL code path over two engines: PostgreSQL (node-postgres pool) when DATABASE_URL is set,
 * embedded PGlite otherwise. Callers see only `Db`, so every query is written once. A PGlite data
 * directory is locked while open (data-dir-lock.ts): one engine per directory.
 */
import { mkdirSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { setPriority } from 'node:os';
import pg from 'pg';
import type { PGlite } from '@electric-sql/pglite';
import { CodedError } from '../errors/coded-error';
import { isConnectionFailure } from './sql-errors';
import { lockDataDir } from './data-dir-lock';

/** How to run one statement. */
export interface QueryOptions {
  /**
   * Prepare it once per PostgreSQL session, so later runs skip parsing and planning (ignored by
   * the embedded store). Its name is derived from the SQL text (`preparedName`), so one name is
   * never given two texts. For hot statements of a fixed text; not for a text built from values,
   * which would leave a statement per value on every session.
   */
  readonly prepared?: boolean;
  /**
   * A tighter bound than the pool's timeout, for a caller that already spent part of its budget
   * (a message that waited for an earlier group insert). Used only when smaller.
   */
  readonly timeoutMs?: number;
}

/** Something that runs parameterised SQL: the database itself or an open transaction. */
export interface Queryable {
  query<R extends object = Record<string, unknown>>(
    sql: string,
    params?: readonly unknown[],
    options?: QueryOptions,
  ): Promise<R[]>;
  /**
   * Runs a script of several statements without parameters (migrations). Not bounded by the
   * statement timeouts: a migration may rightly run for minutes.
   */
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
  /** How long a pooled PostgreSQL session lives before it is replaced when idle. @defaultValue SESSION_LIFETIME_MS */
  readonly sessionLifetimeMs?: number;
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
  /**
   * PostgreSQL: bound on a query, the wait for a connection included, on each side (client read
   * timeout and server `statement_timeout`), so a stalled or hung server is answered (AE, 503)
   * rather than waited for. A statement in a transaction gets `lockTimeoutMs` on top. Ignored by
   * the embedded store, which has no connection to stall.
   * @defaultValue 5000
   */
  readonly timeoutMs?: number;
  /**
   * Scheduling priority for this pool's server processes, when PostgreSQL runs on this host and
   * we may renice them. A worker process's sessions run below the ingest path's just as the
   * worker's own node process does: most of processing's CPU is spent in PostgreSQL, so
   * lowering only the node side would leave ACKs competing with mapping's writes. Unset: left alone.
   */
  readonly backendNiceness?: number;
}

/** Opens the database named by the options and makes sure the schema exists. */
export async function openDb(options: DbOptions): Promise<Db> {
  return options.url !== undefined ? openPostgres(options.url, options) : openPglite(options);
}

/** True when the server named by `url` is this host (loopback or a Unix socket). */
export function isLocalServer(url: string): boolean {
  try {
    const host = new URL(url).hostname;
    return (
      host === '' ||
      host === 'localhost' ||
      host === '127.0.0.1' ||
      host === '[::1]' ||
      host.startsWith('%2F')
    );
  } catch {
    return false;
  }
}

/**
 * Lowers the priority of a session's server process. Best effort: without permission (another
 * user's process) it stays as it is, which costs only the ingest-first benefit, never correctness.
 */
function reniceBackend(client: pg.PoolClient, niceness: number): void {
  client
    .query<{ pid: number }>('SELECT pg_backend_pid() AS pid')
    .then(({ rows }) => {
      const pid = rows[0]?.pid;
      if (pid !== undefined) setPriority(pid, niceness);
    })
    .catch(() => undefined);
}

function quoteIdent(name: string): string {
  if (!/^[a-z_][a-z0-9_]*$/.test(name)) throw new Error(`unsafe schema name: ${name}`);
  return `"${name}"`;
}

/**
 * A pooled session's life: what bounds the age of its prepared statements' plans. A new session
 * costs a backend start and one parse per statement again, a few milliseconds per half minute.
 */
export const SESSION_LIFETIME_MS = 30_000;

async function openPostgres(url: string, options: DbOptions): Promise<Db> {
  const schema = quoteIdent(options.schema);
  const timeoutMs = Math.trunc(options.timeoutMs ?? 5_000);
  const lockTimeoutMs = Math.trunc(options.lockTimeoutMs ?? 20_000);
  // A statement in a transaction may wait out its lock_timeout for a patient's order lock and
  // then still needs the time of any other statement.
  const txStatementMs = lockTimeoutMs + timeoutMs;
  const pool = new pg.Pool({
    connectionString: url,
    max: options.poolSize ?? 10,
    // statement_timeout: the server stops a statement the client has stopped waiting for, so a
    // slow statement cannot hold its locks long after its caller answered AE. plan_cache_mode
    // makes every parameterised statement, named (QueryOptions.prepared) or not, use the plan
    // that ignores its values (auto_explain shows `$1` in either): a named one keeps that plan for
    // the session, so preparing saves the parse and plan without changing the plan.
    options:
      `-c search_path=${schema},public -c lock_timeout=${lockTimeoutMs} -c statement_timeout=${timeoutMs}` +
      ` -c plan_cache_mode=force_generic_plan`,
    // Covers the TCP connect, TLS, the startup exchange and the wait for a free pooled client.
    connectionTimeoutMillis: timeoutMs,
    // A named statement keeps the plan of its first run for the session's life, and a plan made
    // while a table was small (a fresh install) scans it whole once it is large, until an ANALYZE
    // invalidates it, which never comes where autovacuum is off. Sessions are replaced when idle
    // after this long, so a plan is at most that old and is made again for the tables as they are.
    maxLifetimeSeconds: (options.sessionLifetimeMs ?? SESSION_LIFETIME_MS) / 1000,
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
  // Clients whose connection failed: never handed to another caller.
  const broken = new WeakSet<pg.ClientBase>();
  // Every client hears its own errors for its whole life. The pool listens only while a client is
  // idle, and a reset can arrive between the pool handing a client out and its borrower listening
  // (an unhandled 'error' event ends the process).
  const niceness =
    options.backendNiceness !== undefined && isLocalServer(url) ? options.backendNiceness : undefined;
  pool.on('connect', (client) => {
    client.on('error', (err) => {
      broken.add(client);
      onConnectionError(err);
    });
    if (niceness !== undefined) reniceBackend(client, niceness);
  });
  // Reported by the client's own listener above; the pool only discards the idle client.
  pool.on('error', () => undefined);

  /** Runs one statement; a failed connection or a client-side timeout marks the client broken. */
  const run = async <R extends object>(
    client: pg.PoolClient,
    sql: string,
    params: readonly unknown[] | undefined,
    timeout: number | undefined,
    options?: QueryOptions,
  ): Promise<R[]> => {
    try {
      const rows = (await client.query<R>(statement(sql, params, timeout, options?.prepared))).rows;
      restored();
      return rows;
    } catch (caught) {
      const err = withTimeoutCode(caught);
      // A refused, reset or timed-out connection surfaces here. After a client-side timeout the
      // statement may still be running and its answer would be read as the next one's.
      if (isConnectionFailure(err)) {
        broken.add(client);
        onConnectionError(err);
      }
      throw err;
    }
  };
  /**
   * A pooled client, waiting at most `withinMs` when given (the pool's own bound is
   * connectionTimeoutMillis): a client that arrives after the caller gave up goes back to the pool.
   */
  const connect = async (withinMs?: number): Promise<pg.PoolClient> => {
    const pending = pool.connect();
    try {
      if (withinMs === undefined || withinMs >= timeoutMs) return await pending;
      let timer: NodeJS.Timeout | undefined;
      const late = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error('timeout exceeded when trying to connect')), withinMs);
      });
      try {
        return await Promise.race([pending, late]);
      } catch (err) {
        pending.then(
          (client) => release(client),
          () => undefined,
        );
        throw err;
      } finally {
        clearTimeout(timer);
      }
    } catch (caught) {
      const err = withTimeoutCode(caught);
      if (err instanceof Error) onConnectionError(err);
      throw err;
    }
  };
  const release = (client: pg.PoolClient, destroy = false): void => {
    client.release(destroy || broken.has(client));
  };

  try {
    const client = await connect();
    try {
      await run(client, `CREATE SCHEMA IF NOT EXISTS ${schema}`, undefined, timeoutMs);
    } finally {
      release(client);
    }
  } catch (err) {
    // Nobody will close a pool whose database never answered.
    await pool.end().catch(() => undefined);
    throw err;
  }

  return {
    kind: 'postgres',
    // One budget for the wait for a client and the statement: the ACK path promises an answer
    // within DATABASE_TIMEOUT_MS, not twice that.
    async query(sql, params, options) {
      const budget = Math.min(timeoutMs, options?.timeoutMs ?? Infinity);
      const deadline = Date.now() + budget;
      const client = await connect(budget);
      try {
        return await run(client, sql, params, Math.max(1, deadline - Date.now()), options);
      } finally {
        release(client);
      }
    },
    // Scripts (migrations, schema drops) may rightly run for minutes: no timeout on either side.
    // The session setting is changed, so the client is closed rather than pooled.
    async exec(sql) {
      const client = await connect();
      try {
        await run(client, 'SET statement_timeout = 0', undefined, timeoutMs);
        await run(client, sql, undefined, undefined);
      } finally {
        release(client, true);
      }
    },
    async transaction(fn) {
      const client = await connect();
      try {
        // One round trip: the transaction's statements get the lock wait on top of their own time.
        await run(client, `BEGIN; SET LOCAL statement_timeout = ${txStatementMs}`, undefined, timeoutMs);
        // A script (a migration) lifts the server's limit for the rest of the transaction too.
        let unbounded = false;
        const result = await fn({
          query: (sql, params, options) => run(client, sql, params, txStatementMs, options),
          exec: async (sql) => {
            if (!unbounded) {
              await run(client, 'SET LOCAL statement_timeout = 0', undefined, timeoutMs);
              unbounded = true;
            }
            await run(client, sql, undefined, undefined);
          },
        });
        await run(client, 'COMMIT', undefined, txStatementMs);
        return result;
      } catch (err) {
        // A broken client cannot roll back, and its server session ends (rolling back) when the
        // connection is destroyed below.
        if (!broken.has(client)) {
          await run(client, 'ROLLBACK', undefined, timeoutMs).catch(() => {
            broken.add(client);
          });
        }
        throw err;
      } finally {
        // A client whose connection failed or timed out is destroyed rather than pooled.
        release(client);
      }
    },
    close: () => pool.end(),
  };
}

/** A statement with a client-side read timeout (pg's per-query `query_timeout`). */
function statement(
  sql: string,
  params: readonly unknown[] | undefined,
  timeoutMs: number | undefined,
  prepared?: boolean,
): pg.QueryConfig {
  const config: pg.QueryConfig & { query_timeout?: number } = {
    text: sql,
    ...(prepared === true ? { name: preparedName(sql) } : {}),
    ...(params !== undefined ? { values: params as unknown[] } : {}),
    ...(timeoutMs !== undefined ? { query_timeout: timeoutMs } : {}),
  };
  return config;
}

/**
 * The session-wide name of a prepared statement: a digest of its text. pg refuses a name it has
 * prepared for another text, and a name that follows the text cannot be given two.
 */
export function preparedName(sql: string): string {
  let name = preparedNames.get(sql);
  if (name === undefined) {
    name = `s_${createHash('sha256').update(sql).digest('base64url').slice(0, 24)}`;
    preparedNames.set(sql, name);
  }
  return name;
}

/** Digested once per text: the prepared texts are the code's fixed statements, a few dozen. */
const preparedNames = new Map<string, string>();

/** pg's own timeouts, which carry no code. */
const PG_TIMEOUT =
  /^(Query read timeout|timeout exceeded when trying to connect|Connection terminated due to connection timeout)$/;

/**
 * A pg timeout as an error with a code (`ETIMEDOUT`, transient), so the HTTP error handler, the
 * retry policy and the outage log tell it from a bug without reading message text.
 */
function withTimeoutCode(err: unknown): unknown {
  if (!(err instanceof Error) || (err as { code?: unknown }).code !== undefined) return err;
  if (!PG_TIMEOUT.test(err.message)) return err;
  return new CodedError('ETIMEDOUT', `PostgreSQL did not answer in time (${err.message})`, {
    transient: true,
    cause: err,
  });
}

async function openPglite(options: DbOptions): Promise<Db> {
  const inMemory = options.dataDir.startsWith('memory://');
  if (!inMemory) mkdirSync(options.dataDir, { recursive: true });
  // Before PGlite touches the files: it would let a second engine open them too.
  const dirLock = inMemory ? undefined : await lockDataDir(options.dataDir);
  let lite: PGlite | undefined;
  try {
    // Loaded only here: PGlite's WebAssembly build adds ~50 MB to every process that imports it,
    // and a process on PostgreSQL never needs it.
    const { PGlite: Embedded } = await import('@electric-sql/pglite');
    lite = await Embedded.create(options.dataDir);
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
