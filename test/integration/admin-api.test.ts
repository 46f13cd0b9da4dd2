/**
 * The analyst's admin API over HTTP with real tokens: list and filter messages, read one with
 * its FHIR output, replay it; every call needs a token with the right scope and is audited.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { archiveMessage } from '../../engine/src/store/message-archive';
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

describe('admin API paging over more messages than one page', () => {
  // Over 100 rows so ids cross one- and two-digit boundaries: text order (99 > 250) breaks there.
  const TOTAL = 250;
  let big: TestEngine;
  let bigBase: string;
  let bigToken: string;

  const getBig = async (path: string): Promise<{ status: number; body: Record<string, unknown> }> => {
    const res = await fetch(`${bigBase}${path}`, { headers: { authorization: `Bearer ${bigToken}` } });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  };

  /** Follows `next` links from `path` to the end; returns each page's ids and next link. */
  const pageThrough = async (path: string): Promise<{ ids: string[]; next?: string }[]> => {
    const pages: { ids: string[]; next?: string }[] = [];
    let link: string | undefined = path;
    // A bound, so a cursor that never reaches the end fails the test instead of hanging it.
    while (link !== undefined && pages.length <= TOTAL) {
      const { status, body } = await getBig(link);
      expect(status).toBe(200);
      const next = body['next'] as string | undefined;
      pages.push({ ids: (body['messages'] as { id: string }[]).map((m) => m.id), ...(next ? { next } : {}) });
      link = next;
    }
    return pages;
  };

  /** The ids the archive holds for a condition, newest first: what paging must return in total. */
  const idsWhere = async (where = 'TRUE'): Promise<string[]> =>
    (
      await big.db.query<{ id: string }>(
        `SELECT id::text AS id FROM messages WHERE ${where} ORDER BY id::bigint DESC`,
      )
    ).map((r) => r.id);

  const expectCompletePaging = (pages: { ids: string[]; next?: string }[], count: number, all: string[]) => {
    const seen = pages.flatMap((p) => p.ids);
    const duplicated = seen.filter((id, i) => seen.indexOf(id) !== i);
    const missing = all.filter((id) => !seen.includes(id));
    expect({ duplicated, missing }).toEqual({ duplicated: [], missing: [] });
    // Newest first in numeric order, across page boundaries too.
    expect(seen).toEqual(all);
    expect(pages).toHaveLength(Math.max(1, Math.ceil(all.length / count)));
    pages.forEach((p, i) => {
      const last = i === pages.length - 1;
      expect(p.ids.length).toBe(last ? all.length - count * i : count);
      expect(p.next === undefined).toBe(last);
    });
  };

  beforeAll(async () => {
    const c = await createSystemClient();
    big = await startTestEngine({ env: { SMART_CLIENTS_FILE: c.clientsFile } });
    bigBase = big.config.http.publicUrl;
    bigToken = await c.token(bigBase, 'system/Message.rus');
    // Archived and settled in one transaction, so the recovery sweep never sees them unfinished.
    await big.db.transaction(async (tx) => {
      for (let i = 0; i < TOTAL; i++) {
        const facility = i % 3 === 0 ? 'PAGE-B' : 'PAGE-A';
        await archiveMessage(tx, {
          sender: `EPIC^${facility}`,
          sendingApplication: 'EPIC',
          sendingFacility: facility,
          controlId: `PG-${i}`,
          messageType: 'ADT',
          triggerEvent: i % 2 === 0 ? 'A01' : 'A03',
          version: '2.5.1',
          patientKey: `${facility}|P${i % 17}`,
          raw: Buffer.from(`MSH|^~\\&|EPIC|${facility}|CARE|CARE|20260101||ADT^A01|PG-${i}|P|2.5.1`),
        });
      }
      await tx.query(`UPDATE messages SET status = CASE WHEN id % 4 = 0 THEN 'failed' ELSE 'ignored' END`);
    });
  });
  afterAll(async () => {
    await big.destroy();
  });

  it.each([7, 100])(
    'pages through every message exactly once, newest first, with _count=%i',
    async (count) => {
      const all = await idsWhere();
      expect(all).toHaveLength(TOTAL);
      expectCompletePaging(await pageThrough(`/api/messages?_count=${count}`), count, all);
    },
  );

  it('keeps the filters on every next link and pages the filtered set completely', async () => {
    const pages = await pageThrough('/api/messages?sender=PAGE-B&type=ADT^A03&_count=7');
    const all = await idsWhere(`sending_facility = 'PAGE-B' AND trigger_event = 'A03'`);
    expect(all.length).toBeGreaterThan(7 * 3);
    expectCompletePaging(pages, 7, all);
    for (const p of pages.slice(0, -1)) {
      const next = new URL(p.next ?? '', bigBase).searchParams;
      expect([next.get('sender'), next.get('type'), next.get('_count')]).toEqual(['PAGE-B', 'ADT^A03', '7']);
    }
    // A total that is a multiple of _count: the last full page carries no link to an empty one.
    const failed = await idsWhere(`status = 'failed' AND patient_key LIKE '%|P3'`);
    expect(failed.length % 2 === 0 && failed.length > 2).toBe(true);
    expectCompletePaging(await pageThrough('/api/messages?status=failed&patient=P3&_count=2'), 2, failed);
  });

  it('rejects a cursor that is not a message id', async () => {
    const bad = await getBig('/api/messages?before=abc');
    expect(bad.status).toBe(400);
    expect(JSON.stringify(bad.body)).toMatch(/before: must be a message id/);
    expect((await getBig('/api/messages?before=99999999999999999999')).status).toBe(400);
  });
});
