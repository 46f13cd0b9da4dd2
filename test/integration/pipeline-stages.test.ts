/**
 * The stages around processing: job ids that stay unique when the database is new and Redis is
 * not, and events derived from stored changes into the outbox (once, whatever is replayed).
 * Delivery to practices is tested in notify-delivery.test.ts.
 */
import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { adtMessage, MllpTestClient } from '../helpers/mllp-test-client';
import { createSystemClient } from '../helpers/system-client';
import { dropEngineData, startTestEngine, waitFor, type TestEngine } from '../helpers/test-engine';
import { uniqueName } from '../helpers/test-db';

const engines: TestEngine[] = [];
afterEach(async () => {
  await Promise.all(engines.splice(0).map((e) => e.destroy()));
});

const example = (name: string, controlId: string): string =>
  readFileSync(`mappings/tests/${name}.hl7`, 'utf8').replace(
    /^(MSH(?:\|[^|\r\n]*){8}\|)[^|\r\n]*/,
    `$1${controlId}`,
  );

async function statuses(engine: TestEngine, like: string): Promise<string[]> {
  const rows = await engine.db.query<{ status: string }>(
    `SELECT status FROM messages WHERE control_id LIKE $1 ORDER BY id`,
    [like],
  );
  return rows.map((r) => r.status);
}

async function sendAll(port: number, texts: readonly string[]): Promise<string[]> {
  const client = await MllpTestClient.connect(port);
  const codes: string[] = [];
  for (const t of texts) codes.push((await client.send(t)).code ?? '?');
  client.close();
  return codes;
}

describe('job ids across database lifetimes', () => {
  it('processes new messages on a fresh database while Redis still holds the earlier jobs', async () => {
    const prefix = uniqueName('q');
    const first = await startTestEngine({ reuse: { schema: uniqueName('eng'), prefix } });
    const batch = (tag: string): string[] =>
      Array.from({ length: 20 }, (_, i) =>
        adtMessage({ controlId: `${tag}-${i}`, mrn: `${tag}-${i}`, event: 'A08' }),
      );
    expect(await sendAll(first.mllpPort, batch('OLD'))).toEqual(Array(20).fill('AA'));
    await waitFor(async () => (await statuses(first, 'OLD-%')).every((s) => s === 'processed'), 20_000);
    // Stop and lose the database, keep Redis (its completed jobs stay for an hour).
    await first.stop();
    const firstSchema = first.schema;
    const second = await startTestEngine({ reuse: { schema: uniqueName('eng'), prefix } });
    engines.push(second);
    expect(await second.queue.getJobCounts('completed')).toMatchObject({ completed: 20 });
    expect(await sendAll(second.mllpPort, batch('NEW'))).toEqual(Array(20).fill('AA'));
    // Same archive ids 1..20 as before: with ids from the row alone these jobs would be skipped.
    await waitFor(
      async () => (await statuses(second, 'NEW-%')).every((s) => s === 'processed'),
      10_000,
      'new messages processed although their row ids repeat',
    );
    await dropEngineData(firstSchema, `${prefix}-unused`);
  }, 60_000);
});

describe('events and delivery', () => {
  it('derives admit and discharge from stored changes, once, and records each outcome', async () => {
    const client = await createSystemClient('system/Message.u');
    const engine = await startTestEngine({ env: { SMART_CLIENTS_FILE: client.clientsFile } });
    engines.push(engine);
    expect(await sendAll(engine.mllpPort, [example('adt-a01', 'EV-1'), example('adt-a03', 'EV-2')])).toEqual([
      'AA',
      'AA',
    ]);
    const events = async (): Promise<{ kind: string; status: string; focus: string; message: string }[]> =>
      engine.db.query(
        `SELECT kind, status, payload->>'focus' AS focus, message_id::text AS message FROM outbox ORDER BY id`,
      );
    await waitFor(async () => (await events()).filter((e) => e.status !== 'pending').length === 2, 20_000);
    const [admit, discharge] = await events();
    expect(admit).toMatchObject({ kind: 'admit', status: 'no-recipient' });
    expect(discharge).toMatchObject({ kind: 'discharge', status: 'no-recipient' });
    // Both name versions of the same Encounter: the discharge is the version after the admission.
    const [encA, versionA] = (admit?.focus ?? '').split('/_history/');
    const [encD, versionD] = (discharge?.focus ?? '').split('/_history/');
    expect(encA).toMatch(/^Encounter\//);
    expect(encD).toBe(encA);
    expect(Number(versionD)).toBeGreaterThan(Number(versionA));

    // A replay changes nothing stored, so it derives no event; the outbox holds each event once.
    const api = engine;
    const token = await client.token(api.config.http.publicUrl, 'system/Message.u');
    const res = await fetch(`${api.config.http.publicUrl}/api/messages/${discharge?.message ?? ''}/replay`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}` },
    });
    expect(res.status).toBe(202);
    await waitFor(async () => (await statuses(engine, 'EV-2'))[0] === 'processed', 20_000);
    const [{ runs } = { runs: 0 }] = await engine.db.query<{ runs: number }>(
      `SELECT process_count AS runs FROM messages WHERE control_id = 'EV-2'`,
    );
    expect(runs).toBe(2);
    expect(await events()).toHaveLength(2);
  }, 60_000);
});

describe('fairness and backlog', () => {
  it('runs live messages before backfill (replays), and reports backlog per stage on /metrics', async () => {
    const client = await createSystemClient('system/Message.u');
    const engine = await startTestEngine({
      env: { SMART_CLIENTS_FILE: client.clientsFile, WORKER_CONCURRENCY: '1' },
    });
    engines.push(engine);
    const old = Array.from({ length: 5 }, (_, i) =>
      adtMessage({ controlId: `BF-${i}`, mrn: `BF-${i}`, event: 'A08' }),
    );
    expect(await sendAll(engine.mllpPort, old)).toEqual(Array(5).fill('AA'));
    await waitFor(async () => (await statuses(engine, 'BF-%')).every((s) => s === 'processed'), 20_000);

    await engine.queue.pause();
    const token = await client.token(engine.config.http.publicUrl, 'system/Message.u');
    const ids = await engine.db.query<{ id: string }>(
      `SELECT id::text AS id FROM messages WHERE control_id LIKE 'BF-%' ORDER BY id`,
    );
    for (const { id } of ids) {
      const res = await fetch(`${engine.config.http.publicUrl}/api/messages/${id}/replay`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}` },
      });
      expect(res.status).toBe(202);
    }
    const live = Array.from({ length: 5 }, (_, i) =>
      adtMessage({ controlId: `LV-${i}`, mrn: `LV-${i}`, event: 'A08' }),
    );
    expect(await sendAll(engine.mllpPort, live)).toEqual(Array(5).fill('AA'));

    const metrics = await (await fetch(`${engine.config.http.publicUrl}/metrics`)).text();
    expect(metrics).toMatch(/queue_jobs\{queue="process",state="prioritized"\} 5/);
    expect(metrics).toMatch(/queue_jobs\{queue="process",state="waiting"\} 5/);
    expect(metrics).toMatch(/pipeline_backlog\{stage="process",state="received"\} 10/);

    await engine.queue.resume();
    const finished = async (): Promise<boolean> =>
      [...(await statuses(engine, 'LV-%')), ...(await statuses(engine, 'BF-%'))].every(
        (x) => x === 'processed',
      );
    await waitFor(finished, 20_000, 'live and replayed messages processed');
    const order = await engine.db.query<{ control_id: string }>(
      `SELECT control_id FROM messages WHERE control_id LIKE 'LV-%' OR control_id LIKE 'BF-%' ORDER BY processed_at`,
    );
    // Every live message finished before any replay, though the replays were queued first.
    expect(order.slice(0, 5).every((r) => r.control_id.startsWith('LV-'))).toBe(true);
    expect(order.slice(5).every((r) => r.control_id.startsWith('BF-'))).toBe(true);
  }, 60_000);
});
