/**
 * Nothing is dropped in silence, end to end: an ADT carrying a segment no rule maps (a GT1
 * guarantor) is sent over MLLP; the analyst reads the warning with its location on
 * `GET /api/messages/{id}`, and `/metrics` counts it by sender and segment.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { adtMessage, MllpTestClient } from '../helpers/mllp-test-client';
import { createSystemClient, type SystemClient } from '../helpers/system-client';
import { startTestEngine, waitFor, type TestEngine } from '../helpers/test-engine';

let engine: TestEngine;
let client: SystemClient;
let base: string;
let token: string;

async function get(url: string): Promise<Record<string, unknown>> {
  const res = await fetch(`${base}${url}`, { headers: { authorization: `Bearer ${token}` } });
  expect(res.status).toBe(200);
  return (await res.json()) as Record<string, unknown>;
}

beforeAll(async () => {
  client = await createSystemClient();
  engine = await startTestEngine({ env: { SMART_CLIENTS_FILE: client.clientsFile } });
  base = engine.config.http.publicUrl;
  token = await client.token(base, 'system/Message.rs');
  const mllp = await MllpTestClient.connect(engine.mllpPort);
  // Segment 5: a procedure the base ADT mapping has no rule for (yet).
  const withGuarantor = `${adtMessage({ controlId: 'UNM-1', facility: 'RIVERSIDE', mrn: 'UNM-P1' })}\rGT1|1||MORALES^ANA||12 ELM ST^^SPRINGFIELD^IL^62701`;
  expect((await mllp.send(withGuarantor)).code).toBe('AA');
  expect(
    (await mllp.send(adtMessage({ controlId: 'UNM-2', facility: 'RIVERSIDE', mrn: 'UNM-P2' }))).code,
  ).toBe('AA');
  mllp.close();
  await waitFor(
    async () => (await engine.db.query(`SELECT 1 FROM messages WHERE status = 'received'`)).length === 0,
  );
});
afterAll(async () => {
  await engine.destroy();
});

describe('a segment no rule maps', () => {
  it('is a warning with its location on the message, and only on that message', async () => {
    const list = (await get('/api/messages?controlId=UNM-1'))['messages'] as { id: string; status: string }[];
    expect(list).toMatchObject([{ status: 'processed' }]);
    const view = await get(`/api/messages/${list[0]?.id ?? ''}`);
    expect(view['issues']).toEqual([
      {
        severity: 'warning',
        code: 'segment-not-mapped',
        diagnostics:
          'segment GT1 (segment 5 of the message) is not mapped: no rule of mappings/adt.yaml reads it (list it under ignoreSegments: with a reason if that is intended)',
        expression: ['GT1[segment 5]'],
        rule: 'mappings/adt.yaml',
      },
    ]);
    const other = (await get('/api/messages?controlId=UNM-2'))['messages'] as { id: string }[];
    expect((await get(`/api/messages/${other[0]?.id ?? ''}`))['issues']).toEqual([]);
  });

  it('is counted on /metrics by sender and segment', async () => {
    const text = await (await fetch(`${base}/metrics`)).text();
    expect(text).toMatch(/^hl7_unmapped_segments_total\{sender="RIVERSIDE",segment="GT1"\} 1$/m);
    expect(text).not.toMatch(/^hl7_unmapped_segments_total\{[^}]*segment="(MSH|EVN|PID|PV1)"\}/m);
  });
});
