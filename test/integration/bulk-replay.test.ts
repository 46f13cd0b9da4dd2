/**
 * Bulk replay against a real engine: messages that failed under a broken mapping are replayed by
 * filter once the mapping is fixed, and processed ones by id; progress reaches `completed` with
 * the right counts, rejected and unknown messages are skipped and counted, the request is audited
 * with the job id, bad bodies and missing scopes are refused, an interrupted replay resumes
 * without replaying its batch twice, and a replay queued before a restart is done after it.
 */
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../engine/src/observability/logger';
import { replayedJobId, runBulkReplay } from '../../engine/src/pipeline/bulk-replay';
import { readReplayRefs } from '../../engine/src/store/replay-reset';
import { adtMessage, MllpTestClient } from '../helpers/mllp-test-client';
import { createSystemClient, type SystemClient } from '../helpers/system-client';
import { dropEngineData, startTestEngine, waitFor, type TestEngine } from '../helpers/test-engine';

interface Answer {
  readonly status: number;
  readonly body: Record<string, unknown>;
}

async function call(
  base: string,
  token: string,
  method: string,
  url: string,
  body?: unknown,
): Promise<Answer> {
  const res = await fetch(`${base}${url}`, {
    method,
    headers: {
      authorization: `Bearer ${token}`,
      ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
    },
    ...(body !== undefined ? { body: typeof body === 'string' ? body : JSON.stringify(body) } : {}),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

async function messageRows(
  engine: TestEngine,
  controlIds: readonly string[],
): Promise<{ id: string; control_id: string; status: string; process_count: number }[]> {
  return engine.db.query(
    `SELECT id::text AS id, control_id, status, process_count FROM messages
      WHERE control_id = ANY($1::text[]) ORDER BY id`,
    [controlIds],
  );
}

async function sendAll(engine: TestEngine, messages: readonly string[]): Promise<void> {
  const mllp = await MllpTestClient.connect(engine.mllpPort);
  for (const m of messages) await mllp.send(m);
  mllp.close();
  await waitFor(
    async () => (await engine.db.query(`SELECT 1 FROM messages WHERE status = 'received'`)).length === 0,
    20_000,
    'every message to be processed',
  );
}

/** Polls the progress endpoint until the job has ended. */
async function finished(base: string, token: string, jobId: string): Promise<Record<string, unknown>> {
  let last: Answer | undefined;
  await waitFor(
    async () => {
      last = await call(base, token, 'GET', `/api/messages/replay/${jobId}`);
      return last.body['state'] === 'completed' || last.body['state'] === 'failed';
    },
    20_000,
    'the replay job to end',
  );
  return last!.body;
}

describe('bulk replay', () => {
  let dir: string;
  let engine: TestEngine;
  let client: SystemClient;
  let base: string;
  let token: string;
  const patientRules = (): string => path.join(dir, 'rules', 'patient.yaml');

  beforeAll(async () => {
    // A copy of the mappings whose Patient id reads PID-3.9, empty in every test message: each
    // ADT fails until the rule is put back.
    dir = path.join(mkdtempSync(path.join(tmpdir(), 'bulk-replay-')), 'mappings');
    cpSync('mappings', dir, { recursive: true });
    const original = readFileSync(patientRules(), 'utf8');
    expect(original).toContain('- { from: PID-3.1, required: true }');
    writeFileSync(
      patientRules(),
      original.replace('- { from: PID-3.1, required: true }', '- { from: PID-3.9, required: true }'),
    );
    client = await createSystemClient('system/*.rs system/Message.rus');
    engine = await startTestEngine({ env: { SMART_CLIENTS_FILE: client.clientsFile, MAPPINGS_DIR: dir } });
    base = engine.config.http.publicUrl;
    token = await client.token(base, 'system/Message.rus');
  });
  afterAll(async () => {
    await engine.destroy();
    rmSync(path.dirname(dir), { recursive: true, force: true });
  });

  it('replays the failed messages of a sender by filter once the mapping is fixed', async () => {
    const ids = ['BF-1', 'BF-2', 'BF-3'];
    await sendAll(
      engine,
      ids.map((controlId, i) => adtMessage({ controlId, mrn: `BF-P${i}` })),
    );
    expect((await messageRows(engine, ids)).map((r) => r.status)).toEqual(['failed', 'failed', 'failed']);

    writeFileSync(patientRules(), readFileSync('mappings/rules/patient.yaml', 'utf8'));
    // Probes from another facility until the fixed rule is in use; the filter leaves them out.
    let probe = 0;
    await waitFor(
      async () => {
        const controlId = `PROBE-${++probe}`;
        await sendAll(engine, [adtMessage({ controlId, facility: 'PRB', mrn: `PR${probe}` })]);
        return (await messageRows(engine, [controlId]))[0]?.status === 'processed';
      },
      20_000,
      'the fixed mapping to be loaded',
    );

    const accepted = await call(base, token, 'POST', '/api/messages/replay', {
      filter: { status: 'failed', sender: 'GHH' },
    });
    expect(accepted.status).toBe(202);
    expect(accepted.body['total']).toBe(3);
    const jobId = accepted.body['jobId'] as string;
    expect(jobId).toMatch(/^rp-[0-9a-f-]{36}$/);

    expect(await finished(base, token, jobId)).toEqual({
      jobId,
      state: 'completed',
      total: 3,
      queued: 3,
      skipped: 0,
    });
    await waitFor(async () => {
      const rows = await messageRows(engine, ids);
      return rows.every((r) => r.status === 'processed' && r.process_count === 2);
    });

    const [audit] = await engine.db.query<{
      client_id: string;
      outcome: string;
      query: string;
      detail: unknown;
    }>(
      `SELECT client_id, outcome, query, detail FROM audit_events
        WHERE action = 'operation' AND resource_type = 'Message' AND resource_id = $1`,
      [jobId],
    );
    expect(audit).toMatchObject({ client_id: client.clientId, outcome: 'success' });
    expect(audit?.query).toContain('status=failed');
    expect(audit?.detail).toMatchObject({ operation: 'replay', by: 'filter', total: 3 });
  });

  it('replays processed messages by id; rejected and unknown ones are skipped and counted', async () => {
    const ids = ['BI-1', 'BI-2'];
    await sendAll(engine, [
      ...ids.map((controlId, i) => adtMessage({ controlId, mrn: `BI-P${i}` })),
      // No MSH-10: answered AR and archived as rejected.
      'MSH|^~\\&|EPIC|GHH|CARE|CARE|2026||ADT^A01',
    ]);
    const rows = await messageRows(engine, ids);
    expect(rows.map((r) => [r.status, r.process_count])).toEqual([
      ['processed', 1],
      ['processed', 1],
    ]);
    const [rejected] = await engine.db.query<{ id: string }>(
      `SELECT id::text AS id FROM messages WHERE status = 'rejected' ORDER BY id DESC LIMIT 1`,
    );
    const accepted = await call(base, token, 'POST', '/api/messages/replay', {
      // Numbers are ids too, and a repeated id counts once.
      ids: [rows[0]!.id, Number(rows[1]!.id), rows[0]!.id, rejected!.id, '999999999'],
    });
    expect(accepted.status).toBe(202);
    expect(accepted.body['total']).toBe(4);
    const jobId = accepted.body['jobId'] as string;
    expect(await finished(base, token, jobId)).toMatchObject({
      state: 'completed',
      total: 4,
      queued: 2,
      skipped: 2,
    });
    await waitFor(async () =>
      (await messageRows(engine, ids)).every((r) => r.status === 'processed' && r.process_count === 2),
    );
    const [rejectedNow] = await engine.db.query<{ status: string; process_count: number }>(
      `SELECT status, process_count FROM messages WHERE id = $1`,
      [rejected!.id],
    );
    expect(rejectedNow).toEqual({ status: 'rejected', process_count: 0 });
    const audits = await engine.db.query<{ detail: unknown }>(
      `SELECT detail FROM audit_events WHERE action = 'operation' AND resource_id = $1 AND outcome = 'success'`,
      [jobId],
    );
    expect(audits).toEqual([{ detail: { operation: 'replay', by: 'ids', total: 4 } }]);
  });

  it('refuses bodies that are not one list of ids or one known filter', async () => {
    const post = (body: unknown): Promise<Answer> => call(base, token, 'POST', '/api/messages/replay', body);
    const tooMany = Array.from({ length: 10_001 }, (_, i) => String(i + 1));
    for (const body of [
      { ids: [] },
      { ids: tooMany },
      { ids: ['12', 'abc'] },
      { ids: ['1'], filter: { status: 'failed' } },
      {},
      { filter: {} },
      { filter: { status: 'failed', colour: 'red' } },
      { filter: { status: 'broken' } },
      { filter: { since: 'yesterday' } },
      { filter: { since: '2026-02-01', until: '2026-01-01' } },
      { filter: { errorKey: 'not a key' } },
      { idz: ['1'] },
      '[1, 2]',
    ]) {
      const answer = await post(body);
      expect(answer.status, JSON.stringify(body).slice(0, 80)).toBe(400);
      expect(answer.body['resourceType']).toBe('OperationOutcome');
    }
    expect(JSON.stringify((await post({ filter: { status: 'failed', colour: 'red' } })).body)).toContain(
      'colour',
    );
    // Not JSON at all.
    const res = await fetch(`${base}/api/messages/replay`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'text/plain' },
      body: 'ids=1',
    });
    expect(res.status).toBe(400);
  });

  it('needs Message.u (and Message.s for a filter); a refusal is audited', async () => {
    const readOnly = await client.token(base, 'system/Message.rs');
    const denied = await call(base, readOnly, 'POST', '/api/messages/replay', { ids: ['1'] });
    expect(denied.status).toBe(403);
    expect(denied.body['resourceType']).toBe('OperationOutcome');
    const updateOnly = await client.token(base, 'system/Message.u');
    expect(
      (await call(base, updateOnly, 'POST', '/api/messages/replay', { filter: { status: 'failed' } })).status,
    ).toBe(403);
    const rows = await engine.db.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM audit_events WHERE action = 'operation' AND outcome = 'denied'`,
    );
    expect(rows[0]?.n).toBe(2);
    expect((await fetch(`${base}/api/messages/replay`, { method: 'POST' })).status).toBe(401);
  });

  it('answers 404 for an unknown job and 400 for a malformed job id', async () => {
    expect(
      (await call(base, token, 'GET', '/api/messages/replay/rp-00000000-0000-0000-0000-000000000000')).status,
    ).toBe(404);
    expect((await call(base, token, 'GET', '/api/messages/replay/12')).status).toBe(400);
  });

  it('resumes an interrupted replay without resetting what its last batch already queued', async () => {
    const ids = ['BR-1', 'BR-2', 'BR-3'];
    await sendAll(
      engine,
      ids.map((controlId, i) => adtMessage({ controlId, mrn: `BR-P${i}` })),
    );
    const rows = await messageRows(engine, ids);
    const replayJobId = 'rp-11111111-2222-3333-4444-555555555555';
    // The interrupted run had reset and queued the first message of its batch, then died.
    const [firstRef] = await readReplayRefs(engine.db, [rows[0]!.id]);
    await engine.queue.add(
      'process',
      { messageId: rows[0]!.id, controlId: 'BR-1', traceId: 'interrupted' },
      { jobId: replayedJobId(firstRef!, replayJobId) },
    );
    const reports: unknown[] = [];
    const result = await runBulkReplay(
      {
        jobId: replayJobId,
        data: { messageIds: rows.map((r) => r.id), requestedBy: 'test', traceId: 't-resume' },
        resumeFrom: { total: 3, queued: 0, skipped: 0, position: 0 },
        report: (p) => {
          reports.push(p);
          return Promise.resolve();
        },
      },
      { db: engine.db, queue: engine.queue, logger: createLogger('silent') },
      2,
    );
    expect(result).toEqual({ total: 3, queued: 3, skipped: 0, position: 3 });
    expect(reports).toEqual([
      { total: 3, queued: 2, skipped: 0, position: 2 },
      { total: 3, queued: 3, skipped: 0, position: 3 },
    ]);
    await waitFor(async () => {
      const now = await messageRows(engine, ids);
      return (
        now.every((r) => r.status === 'processed') &&
        now[1]!.process_count === 2 &&
        now[2]!.process_count === 2
      );
    });
    // Not reset again: the job of the earlier run found it processed and left it alone.
    expect((await messageRows(engine, ids))[0]!.process_count).toBe(1);
  });
});

describe('bulk replay across a restart', () => {
  it('does a replay queued before the engine stopped once it runs again', async () => {
    const client = await createSystemClient('system/*.rs system/Message.rus');
    const env = { SMART_CLIENTS_FILE: client.clientsFile };
    const first = await startTestEngine({ env });
    const reuse = { schema: first.schema, prefix: first.prefix };
    let third: TestEngine | undefined;
    try {
      const ids = ['RS-1', 'RS-2'];
      await sendAll(
        first,
        ids.map((controlId, i) => adtMessage({ controlId, mrn: `RS-P${i}` })),
      );
      const rows = await messageRows(first, ids);
      await first.stop();

      // HTTP only: the job is queued and nothing runs it.
      const httpOnly = await startTestEngine({
        env,
        reuse,
        parts: { ingest: false, worker: false, http: true },
      });
      const httpBase = httpOnly.config.http.publicUrl;
      const httpToken = await client.token(httpBase, 'system/Message.rus');
      const accepted = await call(httpBase, httpToken, 'POST', '/api/messages/replay', {
        ids: rows.map((r) => r.id),
      });
      expect(accepted.status).toBe(202);
      const jobId = accepted.body['jobId'] as string;
      expect((await call(httpBase, httpToken, 'GET', `/api/messages/replay/${jobId}`)).body).toMatchObject({
        state: 'waiting',
        total: 2,
        queued: 0,
      });
      await httpOnly.stop();

      third = await startTestEngine({ env, reuse });
      const base = third.config.http.publicUrl;
      const token = await client.token(base, 'system/Message.rus');
      expect(await finished(base, token, jobId)).toMatchObject({
        state: 'completed',
        total: 2,
        queued: 2,
        skipped: 0,
      });
      const engine = third;
      await waitFor(async () =>
        (await messageRows(engine, ids)).every((r) => r.status === 'processed' && r.process_count === 2),
      );
    } finally {
      if (third !== undefined) await third.destroy();
      else await dropEngineData(reuse.schema, reuse.prefix);
    }
  });
});
