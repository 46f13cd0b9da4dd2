/**
 * Retention against a real engine, on PostgreSQL and on the embedded store: messages aged past
 * RETENTION_DAYS go with what they alone produced (their superseded versions, a resource only
 * they wrote, their finished outbox rows, notices and attempts); what is still in use stays (a
 * Patient, an Encounter a newer message mapped unchanged, the current version of a resource a
 * newer message updated, a message with a notice still retrying, an unprocessed message), new
 * messages are untouched, audit rows are kept, the counts are logged and returned, and a second
 * run purges nothing. The purge is a BullMQ job scheduler that really runs.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../engine/src/config/schema';
import { startEngine, type RunningEngine } from '../../engine/src/engine';
import { runRetentionPurge, type RetentionResult } from '../../engine/src/pipeline/retention';
import { MAINTENANCE_QUEUE, RETENTION_SCHEDULER } from '../../engine/src/queue/maintenance-queue';
import { archiveMessage, archiveRejected } from '../../engine/src/store/message-archive';
import { adtMessage, MllpTestClient } from '../helpers/mllp-test-client';
import { TEST_REDIS_URL, uniqueName } from '../helpers/test-db';
import { freePort, obliterateQueue, startTestEngine, waitFor, type TestEngine } from '../helpers/test-engine';
import { capturingLogger } from '../helpers/capturing-logger';

/** A lab result (the golden ORU example) as RT-O3. */
const ORU = readFileSync('mappings/tests/oru-r01.hl7', 'utf8')
  .replace(/\r?\n/g, '\r')
  .replace('|ORU-0001|', '|RT-O3|');

const TABLES = [
  'messages',
  'fhir_resource_history',
  'fhir_resources',
  'fhir_search_index',
  'outbox',
  'notifications',
  'notification_attempts',
  'audit_events',
] as const;

type Counts = Record<(typeof TABLES)[number], number>;

async function tableCounts(engine: RunningEngine): Promise<Counts> {
  const out: Partial<Counts> = {};
  for (const t of TABLES) {
    const [row] = await engine.db.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${t}`);
    out[t] = row?.n ?? 0;
  }
  return out as Counts;
}

async function sendAll(engine: RunningEngine, messages: readonly string[]): Promise<void> {
  const mllp = await MllpTestClient.connect(engine.mllpPort);
  for (const m of messages) await mllp.send(m);
  mllp.close();
  await waitFor(
    async () =>
      (await engine.db.query(`SELECT 1 FROM messages WHERE status = 'received' AND control_id <> 'RT-RCV'`))
        .length === 0,
    30_000,
    'every message to be processed',
  );
}

async function idOf(engine: RunningEngine, controlId: string): Promise<string> {
  const [row] = await engine.db.query<{ id: string }>(
    `SELECT id::text AS id FROM messages WHERE control_id = $1`,
    [controlId],
  );
  if (row === undefined) throw new Error(`no message ${controlId}`);
  return row.id;
}

async function written(
  engine: RunningEngine,
  messageId: string,
  type: string,
): Promise<{ id: string; version: number }> {
  const [row] = await engine.db.query<{ id: string; version_id: number }>(
    `SELECT id, version_id FROM fhir_resource_history WHERE message_id = $1 AND resource_type = $2`,
    [messageId, type],
  );
  if (row === undefined) throw new Error(`message ${messageId} wrote no ${type}`);
  return { id: row.id, version: row.version_id };
}

async function exists(engine: RunningEngine, sql: string, params: unknown[]): Promise<boolean> {
  return (await engine.db.query(sql, params)).length > 0;
}

/** Seeds old and new traffic, purges, and checks what went and what stayed. */
async function purgeScenario(engine: RunningEngine): Promise<void> {
  await sendAll(engine, [
    adtMessage({ controlId: 'RT-O1', mrn: 'RTA' }),
    adtMessage({ controlId: 'RT-O2', mrn: 'RTA', event: 'A03' }),
    ORU,
    adtMessage({ controlId: 'RT-O4', mrn: 'RTD' }),
    adtMessage({ controlId: 'RT-O5', mrn: 'RTC' }),
    'MSH|^~\\&|EPIC|GHH|CARE|CARE|2026||ADT^A01',
  ]);
  await sendAll(engine, [
    // RT-O3's results again under a new MSH-10: its report and observations map to what is stored.
    ORU.replace('|RT-O3|', '|RT-N1|'),
    adtMessage({ controlId: 'RT-N2', mrn: 'RTN' }),
    // RT-O5's patient with another given name: a new Patient version.
    adtMessage({ controlId: 'RT-N3', mrn: 'RTC', event: 'A08' }).replace('Doe^Jane^Q', 'Doe^Janet^Q'),
  ]);
  // Archived and never processed (the sweep is held off): never purged, however old.
  const unprocessed = await archiveMessage(engine.db, {
    sender: 'EPIC^GHH',
    sendingApplication: 'EPIC',
    sendingFacility: 'GHH',
    controlId: 'RT-RCV',
    messageType: 'ADT',
    triggerEvent: 'A01',
    raw: Buffer.from(adtMessage({ controlId: 'RT-RCV', mrn: 'RTR' })),
  });
  await archiveRejected(
    engine.db,
    { sender: 'X^GHH', sendingFacility: 'GHH', controlId: 'RT-REJ', raw: Buffer.from('MSH|junk') },
    { code: 'test' },
  );

  const old = {
    o1: await idOf(engine, 'RT-O1'),
    o2: await idOf(engine, 'RT-O2'),
    o3: await idOf(engine, 'RT-O3'),
    o4: await idOf(engine, 'RT-O4'),
    o5: await idOf(engine, 'RT-O5'),
    rej: await idOf(engine, 'RT-REJ'),
  };
  const [rejectedAr] = await engine.db.query<{ id: string }>(
    `SELECT id::text AS id FROM messages WHERE status = 'rejected' AND control_id IS NULL`,
  );
  const purged = [old.o1, old.o2, old.o3, old.o5, old.rej, rejectedAr!.id];
  const n1 = await idOf(engine, 'RT-N1');
  const n3 = await idOf(engine, 'RT-N3');

  const encounterA = await written(engine, old.o1, 'Encounter');
  const provenanceA = await written(engine, old.o1, 'Provenance');
  const reportB = await written(engine, old.o3, 'DiagnosticReport');
  const observationB = await written(engine, old.o3, 'Observation');
  const encounterD = await written(engine, old.o4, 'Encounter');
  const patientC1 = await written(engine, old.o5, 'Patient');
  const patientC2 = await written(engine, n3, 'Patient');
  expect(patientC2).toEqual({ id: patientC1.id, version: patientC1.version + 1 });
  const [n1Output] = await engine.db.query<{ skipped: unknown }>(
    `SELECT output->'stored'->'skipped' AS skipped FROM messages WHERE id = $1`,
    [n1],
  );
  expect(n1Output?.skipped).toEqual(
    expect.arrayContaining([
      expect.objectContaining({ type: 'DiagnosticReport', id: reportB.id }),
      expect.objectContaining({ type: 'Observation', id: observationB.id }),
    ]),
  );

  // RT-O1's event reached a receiver (finished: purged); RT-O4's notice is still retrying (kept).
  const outboxOf = async (messageId: string): Promise<string> => {
    const [row] = await engine.db.query<{ id: string }>(
      `SELECT id::text AS id FROM outbox WHERE message_id = $1 ORDER BY id LIMIT 1`,
      [messageId],
    );
    if (row === undefined) throw new Error(`message ${messageId} made no event`);
    return row.id;
  };
  const notice = async (outboxId: string, status: string): Promise<string> => {
    const [row] = await engine.db.query<{ id: string }>(
      `INSERT INTO notifications (notice_id, outbox_id, event_key, kind, channel, target, reasons, status)
       VALUES (gen_random_uuid(), $1, $3, 'admission', 'webhook', 'Endpoint/rt', '[]', $2) RETURNING id::text AS id`,
      [outboxId, status, `rt-${outboxId}`],
    );
    return row!.id;
  };
  const delivered = await notice(await outboxOf(old.o1), 'delivered');
  await engine.db.query(
    `INSERT INTO notification_attempts (notification_id, attempt, started_at, outcome) VALUES ($1, 1, now(), 'delivered')`,
    [delivered],
  );
  const retrying = await notice(await outboxOf(old.o4), 'retrying');
  await engine.db.query(
    `INSERT INTO audit_events (client_id, action, resource_type, outcome, recorded_at)
     VALUES ('rt', 'read', 'Message', 'success', now() - interval '3 years')`,
  );

  await engine.db.query(
    `UPDATE messages SET received_at = now() - interval '400 days' WHERE id = ANY($1::bigint[])`,
    [[...purged, old.o4, unprocessed.id]],
  );

  const before = await tableCounts(engine);
  const { logger, lines } = capturingLogger();
  const result: RetentionResult = await runRetentionPurge(
    { db: engine.db, logger },
    { days: engine.config.retention.days },
  );
  const after = await tableCounts(engine);

  // The counts returned are what left each table; audit rows stay.
  expect(result).toMatchObject({
    messages: before.messages - after.messages,
    versions: before.fhir_resource_history - after.fhir_resource_history,
    resources: before.fhir_resources - after.fhir_resources,
    searchRows: before.fhir_search_index - after.fhir_search_index,
    outbox: before.outbox - after.outbox,
    notifications: before.notifications - after.notifications,
    attempts: before.notification_attempts - after.notification_attempts,
    batches: 1,
  });
  expect(result.messages).toBe(purged.length);
  expect(result.notifications).toBe(1);
  expect(result.attempts).toBe(1);
  expect(result.resources).toBeGreaterThanOrEqual(2);
  expect(result.keptResources).toBeGreaterThanOrEqual(1);
  expect(after.audit_events).toBe(before.audit_events);
  const logged = lines.find((l) => l['msg'] === 'retention purge');
  expect(logged).toMatchObject({
    messages: result.messages,
    versions: result.versions,
    resources: result.resources,
  });

  const remaining = await engine.db.query<{ control_id: string | null; status: string }>(
    `SELECT control_id, status FROM messages ORDER BY control_id`,
  );
  expect(remaining.map((m) => m.control_id)).toEqual(['RT-N1', 'RT-N2', 'RT-N3', 'RT-O4', 'RT-RCV']);

  // RT-O1 and RT-O2 alone wrote patient A's encounter: it goes with its history and index rows.
  const resourceSql = `SELECT 1 FROM fhir_resources WHERE resource_type = $1 AND id = $2`;
  expect(await exists(engine, resourceSql, ['Encounter', encounterA.id])).toBe(false);
  expect(
    await exists(
      engine,
      `SELECT 1 FROM fhir_resource_history WHERE resource_type = 'Encounter' AND id = $1`,
      [encounterA.id],
    ),
  ).toBe(false);
  expect(
    await exists(engine, `SELECT 1 FROM fhir_search_index WHERE resource_type = 'Encounter' AND id = $1`, [
      encounterA.id,
    ]),
  ).toBe(false);
  expect(await exists(engine, resourceSql, ['Provenance', provenanceA.id])).toBe(false);
  // Patient A is kept (identity links name it), with its current version.
  const patientA = await written(engine, old.o1, 'Patient').catch(() => written(engine, old.o2, 'Patient'));
  expect(await exists(engine, resourceSql, ['Patient', patientA.id])).toBe(true);
  // RT-N1 mapped patient B's report and results unchanged: kept, with their current versions
  // (written by RT-O3) and search rows.
  for (const [type, r] of [
    ['DiagnosticReport', reportB],
    ['Observation', observationB],
  ] as const) {
    expect(await exists(engine, resourceSql, [type, r.id])).toBe(true);
    expect(
      await exists(
        engine,
        `SELECT 1 FROM fhir_resource_history WHERE resource_type = $1 AND id = $2 AND version_id = $3 AND message_id = $4`,
        [type, r.id, r.version, old.o3],
      ),
    ).toBe(true);
    expect(
      await exists(engine, `SELECT 1 FROM fhir_search_index WHERE resource_type = $1 AND id = $2`, [
        type,
        r.id,
      ]),
    ).toBe(true);
  }
  // Patient C's first version (RT-O5) is superseded by RT-N3's: gone; the current one stays.
  const versionsOfC = await engine.db.query<{ version_id: number; message_id: string }>(
    `SELECT version_id, message_id FROM fhir_resource_history WHERE resource_type = 'Patient' AND id = $1`,
    [patientC1.id],
  );
  expect(versionsOfC).toEqual([{ version_id: patientC2.version, message_id: n3 }]);
  // Nothing a purged message wrote is left but current versions of kept resources.
  const stray = await engine.db.query(
    `SELECT 1 FROM fhir_resource_history h WHERE h.message_id = ANY($1::text[])
       AND NOT EXISTS (SELECT 1 FROM fhir_resources r
                        WHERE r.resource_type = h.resource_type AND r.id = h.id AND r.version_id = h.version_id)`,
    [purged],
  );
  expect(stray).toEqual([]);
  expect(await exists(engine, `SELECT 1 FROM outbox WHERE message_id = ANY($1::bigint[])`, [purged])).toBe(
    false,
  );
  // RT-O4 waits for its retrying notice: message, event, notice and FHIR all kept.
  expect(await exists(engine, `SELECT 1 FROM notifications WHERE id = $1`, [retrying])).toBe(true);
  expect(await exists(engine, resourceSql, ['Encounter', encounterD.id])).toBe(true);

  // The store does not grow: a second run finds nothing left to purge.
  const again = await runRetentionPurge({ db: engine.db, logger }, { days: engine.config.retention.days });
  expect(again).toMatchObject({
    messages: 0,
    versions: 0,
    resources: 0,
    searchRows: 0,
    outbox: 0,
    notifications: 0,
    attempts: 0,
    batches: 0,
  });
  expect(await tableCounts(engine)).toEqual(after);
}

describe('retention on PostgreSQL', () => {
  let engine: TestEngine | undefined;
  afterAll(async () => {
    await engine?.destroy();
  });

  it('purges old messages and what they alone produced, and keeps what is still in use', async () => {
    engine = await startTestEngine({ sweepIntervalMs: 3_600_000 });
    await purgeScenario(engine);
  });

  it('registers the purge as a job scheduler on the maintenance queue', async () => {
    const maintenance = engine!.queues.find((q) => q.name === MAINTENANCE_QUEUE);
    const scheduler = await maintenance!.getJobScheduler(RETENTION_SCHEDULER);
    expect(scheduler?.every).toBe(engine!.config.retention.intervalMs);
    expect(scheduler?.next).toBeGreaterThan(Date.now());
  });

  it('runs the purge on its schedule', async () => {
    const scheduled = await startTestEngine({ env: { RETENTION_INTERVAL_MS: '500', RETENTION_DAYS: '30' } });
    try {
      const id = await archiveRejected(
        scheduled.db,
        { sender: 'X^GHH', sendingFacility: 'GHH', controlId: 'RT-SCHED', raw: Buffer.from('MSH|junk') },
        { code: 'test' },
      );
      const fresh = await archiveRejected(
        scheduled.db,
        { sender: 'X^GHH', sendingFacility: 'GHH', controlId: 'RT-FRESH', raw: Buffer.from('MSH|junk') },
        { code: 'test' },
      );
      await scheduled.db.query(`UPDATE messages SET received_at = now() - interval '31 days' WHERE id = $1`, [
        id,
      ]);
      await waitFor(
        async () => !(await exists(scheduled, `SELECT 1 FROM messages WHERE id = $1`, [id])),
        15_000,
        'the scheduled purge',
      );
      expect(await exists(scheduled, `SELECT 1 FROM messages WHERE id = $1`, [fresh])).toBe(true);
    } finally {
      await scheduled.destroy();
    }
  });
});

describe('retention on the embedded store', () => {
  const dir = mkdtempSync(join(tmpdir(), 'care-retention-'));
  const prefix = uniqueName('q');
  let engine: RunningEngine | undefined;
  afterAll(async () => {
    await engine?.stop();
    await obliterateQueue(prefix);
    rmSync(dir, { recursive: true, force: true });
  });

  it('purges the same way on PGlite', async () => {
    const port = await freePort();
    engine = await startEngine({
      config: loadConfig({
        DATA_DIR: dir,
        MLLP_PORT: '0',
        MLLP_HOST: '127.0.0.1',
        HTTP_PORT: String(port),
        HTTP_HOST: '127.0.0.1',
        PUBLIC_URL: `http://127.0.0.1:${port}`,
        REDIS_URL: TEST_REDIS_URL,
        QUEUE_PREFIX: prefix,
        MAPPINGS_DIR: './mappings',
        LOG_LEVEL: 'silent',
      }),
      sweepIntervalMs: 3_600_000,
    });
    expect(engine.db.kind).toBe('pglite');
    await purgeScenario(engine);
  });
});
