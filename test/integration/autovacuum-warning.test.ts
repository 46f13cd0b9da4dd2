/**
 * An engine on a PostgreSQL whose autovacuum is off says so once at start: its plans depend on
 * table statistics that nothing then gathers. Checked against the server it runs on, whichever
 * way that server is set (this build machine has autovacuum off).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { autovacuumIsOff } from '../../engine/src/store/planner-statistics';
import { startTestEngine, type TestEngine } from '../helpers/test-engine';
import { capturingLogger } from '../helpers/capturing-logger';

const engines: TestEngine[] = [];
afterEach(async () => {
  await Promise.all(engines.splice(0).map((e) => e.destroy()));
});

describe('autovacuum at start', () => {
  it('is reported when, and only when, the server has it off', async () => {
    const { logger, lines } = capturingLogger();
    const engine = await startTestEngine({ logger, parts: { ingest: false, worker: false, http: false } });
    engines.push(engine);
    const [server] = await engine.db.query<{ autovacuum: string }>(`SHOW autovacuum`);
    const warned = lines.filter((l) => l['autovacuum'] === 'off');
    expect(await autovacuumIsOff(engine.db)).toBe(server?.autovacuum === 'off');
    expect(warned).toHaveLength(server?.autovacuum === 'off' ? 1 : 0);
    expect(warned.every((l) => l['level'] === 40)).toBe(true);
  });
});
