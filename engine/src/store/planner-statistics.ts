/**
 * Whether PostgreSQL gathers the planner's statistics by itself. Every engine session plans
 * generically from table statistics (store/db.ts); where autovacuum is off nothing gathers them,
 * the plans are made for tables PostgreSQL knows nothing of, and a drained A01 costs PostgreSQL
 * about twice the CPU (README, "Plans and sessions").
 */
import type { Queryable } from './db';

export async function autovacuumIsOff(db: Queryable): Promise<boolean> {
  const [row] = await db.query<{ setting: string }>(`SELECT current_setting('autovacuum') AS setting`);
  return row?.setting === 'off';
}
