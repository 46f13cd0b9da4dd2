/**
 * The planner's statistics: whether PostgreSQL gathers them by itself, and gathering them. Every
 * engine session plans generically from table statistics (store/db.ts); where autovacuum is off
 * nothing gathers them, the plans are made for tables PostgreSQL knows nothing of, and a drained
 * A01 costs PostgreSQL about twice the CPU (README, "Plans and sessions").
 */
import type { Queryable } from './db';

export async function autovacuumIsOff(db: Queryable): Promise<boolean> {
  const [row] = await db.query<{ setting: string }>(`SELECT current_setting('autovacuum') AS setting`);
  return row?.setting === 'off';
}

/**
 * Gathers statistics for every table of the session's schema (its search path), as autovacuum
 * does for a live engine within its first minute. A benchmark's schema is seconds old: without
 * this, PostgreSQL plans for the empty tables the migrations made (a sequential scan of
 * `fhir_resources` for each lookup by key), and the run measures a database no deployment runs
 * for long.
 */
export async function analyzeSchema(db: Queryable): Promise<void> {
  const tables = await db.query<{ name: string }>(
    `SELECT quote_ident(tablename) AS name FROM pg_tables WHERE schemaname = current_schema() ORDER BY 1`,
  );
  if (tables.length > 0) await db.exec(`ANALYZE ${tables.map((t) => t.name).join(', ')}`);
}
