/**
 * A PCP hears of a transfer between units or facilities, not of a bed move within one unit: A02s
 * over real MLLP into a real engine, and the `transfer` rows its outbox gets (or does not).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MllpTestClient } from '../helpers/mllp-test-client';
import { startTestEngine, waitFor, type TestEngine } from '../helpers/test-engine';

let engine: TestEngine;
beforeAll(async () => {
  engine = await startTestEngine();
});
afterAll(async () => {
  await engine.destroy();
});

let sent = 0;

/** An A01 or A02 for one patient's visit at Mercy; PV1-3 and PV1-6 as point of care^room^bed. */
function adt(mrn: string, event: 'A01' | 'A02', location: string, prior?: string): string {
  sent += 1;
  const time = `20260301${String(8 + sent).padStart(2, '0')}0000-0500`;
  const pv1 = Array.from({ length: 20 }, () => '');
  pv1[0] = 'PV1';
  pv1[1] = '1';
  pv1[2] = 'I';
  pv1[3] = `${location}^MERCY`;
  if (prior !== undefined) pv1[6] = `${prior}^MERCY`;
  pv1[19] = `V-${mrn}^^^MERCY^VN`;
  return [
    `MSH|^~\\&|EPIC|MERCY|CARE|CARE|${time}||ADT^${event}^ADT_${event}|TR-${mrn}-${sent}|P|2.5.1`,
    `EVN|${event}|${time}`,
    `PID|1||${mrn}^^^MERCY^MR||Doe^Jane^Q||19800101|F`,
    pv1.join('|'),
  ].join('\r');
}

/** Sends the messages in order and waits until each is processed; returns the outbox kinds. */
async function outboxKindsAfter(mrn: string, messages: readonly string[]): Promise<string[]> {
  const client = await MllpTestClient.connect(engine.mllpPort);
  for (const m of messages) expect((await client.send(m)).code).toBe('AA');
  client.close();
  const statuses = async (): Promise<string[]> =>
    (
      await engine.db.query<{ status: string }>(`SELECT status FROM messages WHERE control_id LIKE $1`, [
        `TR-${mrn}-%`,
      ])
    ).map((r) => r.status);
  await waitFor(
    async () => {
      const s = await statuses();
      return s.length === messages.length && s.every((x) => x === 'processed');
    },
    20_000,
    `${mrn}'s messages processed`,
  );
  const rows = await engine.db.query<{ kind: string }>(
    `SELECT o.kind FROM outbox o JOIN messages m ON m.id = o.message_id
      WHERE m.control_id LIKE $1 ORDER BY o.id`,
    [`TR-${mrn}-%`],
  );
  return rows.map((r) => r.kind);
}

describe('transfer events', () => {
  it('an A02 to another bed, or another room, of the same unit is no transfer', async () => {
    const kinds = await outboxKindsAfter('BED-1', [
      adt('BED-1', 'A01', '4W^401^A'),
      adt('BED-1', 'A02', '4W^401^B', '4W^401^A'),
      adt('BED-1', 'A02', '4W^402^A', '4W^401^B'),
    ]);
    expect(kinds).toEqual(['admit']);
  });

  it('an A02 to another unit is one transfer', async () => {
    const kinds = await outboxKindsAfter('UNIT-1', [
      adt('UNIT-1', 'A01', '4W^401^A'),
      adt('UNIT-1', 'A02', 'ICU^12^A', '4W^401^A'),
    ]);
    expect(kinds).toEqual(['admit', 'transfer']);
  });

  it('stores the hierarchy the decision rests on: two beds of one unit share its Location', async () => {
    const rows = await engine.db.query<{ name: string; parent: string | null }>(
      `SELECT l.resource->>'name' AS name, p.resource->>'name' AS parent
         FROM fhir_resources l
         LEFT JOIN fhir_resources p ON p.resource_type = 'Location'
          AND 'Location/' || p.id = l.resource #>> '{partOf,reference}'
        WHERE l.resource_type = 'Location' AND l.resource->>'name' LIKE 'MERCY 4W%'
        ORDER BY 1`,
    );
    expect(rows).toEqual([
      { name: 'MERCY 4W', parent: 'MERCY' },
      { name: 'MERCY 4W 401', parent: 'MERCY 4W' },
      { name: 'MERCY 4W 401 A', parent: 'MERCY 4W 401' },
      { name: 'MERCY 4W 401 B', parent: 'MERCY 4W 401' },
      { name: 'MERCY 4W 402', parent: 'MERCY 4W' },
      { name: 'MERCY 4W 402 A', parent: 'MERCY 4W 402' },
    ]);
  });
});
