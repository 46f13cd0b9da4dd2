/**
 * Ingest's group commit: several accepted messages archived in one statement must come out as
 * if each had been archived alone (duplicates, reused control IDs, order keys, row order), a row
 * the database refuses must fail only that message, and an engine taking many connections at
 * once must answer each message as it would alone.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  archiveBatchKey,
  archiveMessage,
  archiveMessages,
  isArchiveError,
  type NewMessage,
} from '../../engine/src/store/message-archive';
import { openDb } from '../../engine/src/store/db';
import { adtMessage, MllpTestClient } from '../helpers/mllp-test-client';
import { createTestDb, TEST_DATABASE_URL, type TestDb } from '../helpers/test-db';
import { startTestEngine, type TestEngine } from '../helpers/test-engine';

const message = (controlId: string, o: Partial<NewMessage> & { mrn?: string } = {}): NewMessage => ({
  sender: 'EPIC^GHH',
  sendingApplication: 'EPIC',
  sendingFacility: 'GHH',
  controlId,
  messageType: 'ADT',
  triggerEvent: 'A01',
  patientKey: `GHH|${o.mrn ?? controlId}`,
  raw: Buffer.from(adtMessage({ controlId, mrn: o.mrn ?? controlId })),
  ...o,
});

describe('archiving several messages in one statement', () => {
  let t: TestDb;
  beforeEach(async () => {
    t = await createTestDb('ab');
  });
  afterEach(async () => {
    await t.drop();
  });

  it('answers each message as archiveMessage would, with row ids in the order given', async () => {
    const earlier = await archiveMessage(t.db, message('C-1'));
    const batch = [
      message('C-2'),
      // The same message again: counted on the first row.
      message('C-1'),
      // C-3 carries a merge's other patient.
      message('C-3', { otherPatientKeys: ['GHH|OLD-1', 'GHH|OLD-2'] }),
      // C-1 again with other content: a new row, flagged as reusing the control ID.
      message('C-1x', { controlId: 'C-1', mrn: 'OTHER' }),
    ];
    // The two C-1 share a batch key, so they never share a statement: here they go in two calls.
    expect(new Set(batch.map(archiveBatchKey)).size).toBe(3);
    const first = await archiveMessages(t.db, batch.slice(0, 3));
    const second = await archiveMessages(t.db, batch.slice(3));
    const results = [...first, ...second].map((r) => {
      if (!r.ok) throw r.error;
      return r.value;
    });
    expect(results.map((r) => [r.duplicate, r.controlIdReused])).toEqual([
      [false, false],
      [true, false],
      [false, false],
      [false, true],
    ]);
    expect(results[1]?.id).toBe(earlier.id);
    const rows = await t.db.query<{
      id: string;
      control_id: string;
      order_keys: string[] | null;
      duplicates: number;
    }>('SELECT id::text AS id, control_id, order_keys, duplicates FROM messages ORDER BY id');
    expect(rows.map((r) => [r.control_id, r.order_keys, r.duplicates])).toEqual([
      ['C-1', null, 1],
      ['C-2', null, 0],
      ['C-3', ['GHH|OLD-1', 'GHH|OLD-2'], 0],
      ['C-1', null, 0],
    ]);
    expect(rows.map((r) => r.id)).toEqual([earlier.id, results[0]?.id, results[2]?.id, results[3]?.id]);
  });

  it('refuses only the row the database refuses; the others are archived', async () => {
    const batch = [message('R-1'), message('R-2', { sendingApplication: 'EP\u0000IC' }), message('R-3')];
    const results = await archiveMessages(t.db, batch);
    expect(results.map((r) => r.ok)).toEqual([true, false, true]);
    const refused = results[1];
    expect(
      refused !== undefined && !refused.ok && isArchiveError(refused.error) && !refused.error.transient,
    ).toBe(true);
    const rows = await t.db.query<{ control_id: string }>('SELECT control_id FROM messages ORDER BY id');
    expect(rows.map((r) => r.control_id)).toEqual(['R-1', 'R-3']);
  });

  it('fails every message of the batch as transient when the database cannot be asked', async () => {
    const closed = await openDb({ url: TEST_DATABASE_URL, schema: t.schema, dataDir: 'memory://' });
    await closed.close();
    const results = await archiveMessages(closed, [message('T-1'), message('T-2')]);
    for (const r of results) {
      expect(r.ok).toBe(false);
      if (!r.ok) expect(isArchiveError(r.error) && r.error.transient).toBe(true);
    }
  });
});

describe('an engine taking many connections at once', () => {
  let engine: TestEngine;
  beforeEach(async () => {
    engine = await startTestEngine({ parts: { ingest: true, worker: false, http: false } });
  });
  afterEach(async () => {
    await engine.destroy();
  });

  it('answers every message as it would alone, resends and reused control IDs included', async () => {
    const connections = 8;
    const perConnection = 40;
    const clients = await Promise.all(
      Array.from({ length: connections }, () => MllpTestClient.connect(engine.mllpPort)),
    );
    try {
      // Every connection sends the same shared message first (one row, the rest counted as
      // duplicates), then its own, and one with the shared control ID but its own content.
      const acks = await Promise.all(
        clients.map(async (client, c) => {
          const codes: (string | undefined)[] = [];
          codes.push((await client.send(adtMessage({ controlId: 'SHARED', mrn: 'S' }))).code);
          for (let i = 0; i < perConnection; i++) {
            codes.push((await client.send(adtMessage({ controlId: `M-${c}-${i}`, mrn: `P${c}` }))).code);
          }
          codes.push((await client.send(adtMessage({ controlId: 'SHARED', mrn: `OWN${c}` }))).code);
          return codes;
        }),
      );
      expect(acks.flat().every((code) => code === 'AA')).toBe(true);
    } finally {
      for (const client of clients) client.close();
    }
    const rows = await engine.db.query<{
      control_id: string;
      duplicates: number;
      control_id_reused: boolean;
    }>('SELECT control_id, duplicates, control_id_reused FROM messages ORDER BY id');
    expect(rows.length).toBe(1 + connections * perConnection + connections);
    const shared = rows.filter((r) => r.control_id === 'SHARED');
    // The first SHARED row took the seven resends; the eight with their own content are new rows.
    expect(shared.map((r) => r.duplicates).sort()).toEqual([0, 0, 0, 0, 0, 0, 0, 0, connections - 1]);
    expect(shared.filter((r) => r.control_id_reused).length).toBe(connections);
    // Each connection's own messages were archived in the order it sent them.
    for (let c = 0; c < connections; c++) {
      const own = rows.filter((r) => r.control_id.startsWith(`M-${c}-`)).map((r) => r.control_id);
      expect(own).toEqual(Array.from({ length: perConnection }, (_, i) => `M-${c}-${i}`));
    }
    const queued = await engine.queue.getJobCounts('waiting', 'prioritized');
    expect((queued['waiting'] ?? 0) + (queued['prioritized'] ?? 0)).toBe(rows.length);
  });
});
