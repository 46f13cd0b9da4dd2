/**
 * `npm run identity:relink`: decides every stored Patient's person again with the current rules
 * and thresholds (after a threshold change, a new nickname table, or records stored before
 * identity existed). Prints one JSON summary line; counts only, never names.
 */
import { loadConfig } from '../config/schema';
import { identityRules } from '../identity/link-patient';
import { relinkAll } from '../identity/relink';
import { openDb } from '../store/db';
import { migrate } from '../store/migrate';

async function main(): Promise<void> {
  const config = loadConfig(process.env);
  // One statement may page through a large store: the engine's per-query bound is for requests.
  const db = await openDb({ ...config.database, timeoutMs: 10 * 60_000 });
  try {
    await migrate(db);
    const report = await relinkAll(db, identityRules(config.identity));
    process.stdout.write(`${JSON.stringify(report)}\n`);
  } finally {
    await db.close();
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`identity:relink failed: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
