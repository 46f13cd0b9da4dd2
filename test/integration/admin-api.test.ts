/**
 * The analyst's admin API over HTTP with real tokens: list and filter messages, read one with
 * its FHIR output, replay it; every call needs a token with the right scope and is audited.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { adtMessage, MllpTestClient } from '../helpers/mllp-test-client';
import { createSystemClient, type SystemClient } from '../helpers/system-client';
import { startTestEngine, waitFor, type TestEngine } from '../helpers/test-engine';

let engine: TestEngine;
let client: SystemClient;
let base: string;
let token: string;

const get = async (
  path: string,
  bearer = token,
): Promise<{ status: number; body: Record<string, unknown> }> => {
  const res = await fetch(`${base}${path}`, { headers: { authorization: `Bearer ${bearer}` } });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
};

beforeAll(async () => {
  client = await createSystemClient();
  engine = await startTestEngine({ env: { SMART_CLIENTS_FILE: client.clientsFile } });
  base = engine.config.http.publicUrl;
  token = await client.token(base, 'system/Message.rus system/*.rs');
  const mllp = await MllpTestClient.connect(engine.mllpPort);
  await mllp.send(adtMessage({ controlId: 'API-1', mrn: 'API-P1' }));
  await mllp.send(adtMessage({ controlId: 'API-2', mrn: 'API-P2', event: 'A03' }));
  await mllp.send('MSH|^~\\&|EPIC|GHH|CARE|CARE|2026||ADT^A01');
  mllp.close();
  await waitFor(
    async () => (await engine.db.query(`SELECT 1 FROM messages WHERE status = 'received'`)).length === 0,
  );
});
afterAll(async () => {
  await engine.destroy();
});

describe('admin API', () => {
  it('refuses calls without a valid token', async () => {
    const none = await fetch(`${base}/api/messages`);
    expect(none.status).toBe(401);
    expect(((await none.json()) as { resourceType: string }).resourceType).toBe('OperationOutcome');
    expect((await get('/api/messages', 'garbage')).status).toBe(401);
  });

  it('refuses a token whose scope does not cover messages', async () => {
    const patientOnly = await client.token(base, 'system/Patient.rs');
    expect((await get('/api/messages', patientOnly)).status).toBe(403);
  });

  it('lists messages with filters', async () => {
    const all = await get('/api/messages');
    expect(all.status).toBe(200);
    expect((all.body['messages'] as unknown[]).length).toBe(3);
    const byControl = await get('/api/messages?controlId=API-2');
    expect(byControl.body['messages']).toMatchObject([
      { controlId: 'API-2', type: 'ADT^A03', status: 'processed' },
    ]);
    expect(((await get('/api/messages?status=rejected')).body['messages'] as unknown[]).length).toBe(1);
    expect(((await get('/api/messages?patient=API-P1')).body['messages'] as unknown[]).length).toBe(1);
    expect(((await get('/api/messages?type=ADT^A01&sender=GHH')).body['messages'] as unknown[]).length).toBe(
      1,
    );
    expect(
      ((await get('/api/messages?since=2000-01-01T00:00:00Z&_count=1')).body['messages'] as unknown[]).length,
    ).toBe(1);
    const bad = await get('/api/messages?status=bogus&colour=red');
    expect(bad.status).toBe(400);
    expect(JSON.stringify(bad.body)).toMatch(/status/);
  });

  it('pages with a next link', async () => {
    const first = await get('/api/messages?_count=2');
    expect(first.body['next']).toBeTypeOf('string');
    const second = await get(first.body['next'] as string);
    expect((second.body['messages'] as unknown[]).length).toBe(1);
  });

  it('returns one message with raw text, status and the FHIR it produced, and audits the read', async () => {
    const list = await get('/api/messages?controlId=API-1');
    const id = (list.body['messages'] as { id: string }[])[0]?.id;
    const one = await get(`/api/messages/${id}`);
    expect(one.status).toBe(200);
    expect(one.body['raw']).toMatch(/^MSH\|/);
    expect(one.body['status']).toBe('processed');
    expect(one.body['output']).toMatchObject({ stored: { written: expect.any(Array) as unknown } });
    const produced = (one.body['fhir'] as { entry: { resource: { resourceType: string } }[] }).entry;
    expect(produced.map((e) => e.resource.resourceType)).toEqual(
      expect.arrayContaining(['Patient', 'Encounter', 'Provenance']),
    );
    const audit = await engine.db.query(
      `SELECT action, resource_type, resource_id FROM audit_events WHERE resource_id = $1`,
      [id],
    );
    expect(audit).toContainEqual({ action: 'read', resource_type: 'Message', resource_id: id });
    expect((await get('/api/messages/999999999')).status).toBe(404);
  });

  it('replays a message: it is processed again and stays one message', async () => {
    const id = ((await get('/api/messages?controlId=API-1')).body['messages'] as { id: string }[])[0]?.id;
    const res = await fetch(`${base}/api/messages/${id}/replay`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}` },
    });
    expect(res.status).toBe(202);
    await waitFor(async () => {
      const rows = await engine.db.query<{ process_count: number; status: string }>(
        `SELECT process_count, status FROM messages WHERE id = $1`,
        [id],
      );
      return rows[0]?.process_count === 2 && rows[0].status === 'processed';
    });
    const rejected = ((await get('/api/messages?status=rejected')).body['messages'] as { id: string }[])[0]
      ?.id;
    const conflict = await fetch(`${base}/api/messages/${rejected}/replay`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}` },
    });
    expect(conflict.status).toBe(409);
  });

  it('serves health, readiness, metrics and SMART discovery without a token', async () => {
    expect((await fetch(`${base}/healthz`)).status).toBe(200);
    expect(await (await fetch(`${base}/readyz`)).json()).toEqual({
      status: 'ready',
      store: 'up',
      queue: 'up',
    });
    expect(await (await fetch(`${base}/metrics`)).text()).toMatch(/mllp_acks_total\{code="AA"\} \d+/);
    const smart = (await (await fetch(`${base}/fhir/.well-known/smart-configuration`)).json()) as {
      token_endpoint: string;
    };
    expect(smart.token_endpoint).toBe(`${base}/auth/token`);
  });
});
