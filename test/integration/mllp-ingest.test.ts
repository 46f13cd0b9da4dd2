/**
 * The MLLP contract end to end against a real engine (PostgreSQL, Redis): ACK codes for good and
 * bad input, framing over a real socket, duplicates, and limits.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { frameMllp } from '../../engine/src/hl7/mllp-frame-reader';
import { adtMessage, MllpTestClient } from '../helpers/mllp-test-client';
import { startTestEngine, waitFor, type TestEngine } from '../helpers/test-engine';

let engine: TestEngine;

beforeAll(async () => {
  engine = await startTestEngine({
    env: { MLLP_ALLOWED_SENDERS: 'GHH,LAB^CITY', MLLP_MAX_FRAME_BYTES: '4096' },
  });
});
afterAll(async () => {
  await engine.destroy();
});

const rows = (sql: string, params: unknown[] = []): Promise<Record<string, unknown>[]> =>
  engine.db.query(sql, params);

describe('MLLP ingest', () => {
  it('answers AA in the sender version, MSA-2 = MSH-10, with a unique ACK MSH-10, after archiving', async () => {
    const client = await MllpTestClient.connect(engine.mllpPort);
    const a = await client.send(adtMessage({ controlId: 'AA-1', version: '2.3' }));
    const b = await client.send(adtMessage({ controlId: 'AA-2', version: '2.5.1' }));
    client.close();
    expect([a.code, a.controlId, a.version]).toEqual(['AA', 'AA-1', '2.3']);
    expect([b.code, b.controlId, b.version]).toEqual(['AA', 'AA-2', '2.5.1']);
    expect(a.ackControlId).not.toEqual(b.ackControlId);
    const archived = await rows(
      `SELECT control_id, sender, message_type, trigger_event FROM messages WHERE control_id IN ('AA-1','AA-2') ORDER BY id`,
    );
    expect(archived).toEqual([
      { control_id: 'AA-1', sender: 'EPIC^GHH', message_type: 'ADT', trigger_event: 'A01' },
      { control_id: 'AA-2', sender: 'EPIC^GHH', message_type: 'ADT', trigger_event: 'A01' },
    ]);
  });

  it('reads several frames in one chunk and one frame split across chunks, with junk between', async () => {
    const client = await MllpTestClient.connect(engine.mllpPort);
    client.write(
      Buffer.concat([
        Buffer.from('\r\nnoise'),
        frameMllp(adtMessage({ controlId: 'F-1' })),
        frameMllp(adtMessage({ controlId: 'F-2' })),
      ]),
    );
    const split = frameMllp(adtMessage({ controlId: 'F-3' }).replaceAll('\r', '\r\n'));
    for (let i = 0; i < split.length; i += 7) {
      client.write(split.subarray(i, i + 7));
      await new Promise((r) => setTimeout(r, 1));
    }
    const acks = await client.waitForAcks(3);
    client.close();
    expect(client.allAcks().map((a) => [a.code, a.controlId])).toEqual([
      ['AA', 'F-1'],
      ['AA', 'F-2'],
      ['AA', 'F-3'],
    ]);
    expect(acks).toHaveLength(1);
  });

  it.each([
    ['no MSH', 'PID|1||123^^^GHH^MR||Doe^Jane', 'no-msh', '100'],
    [
      'bad encoding characters',
      'MSH|^^\\&|EPIC|GHH|CARE|CARE|2026||ADT^A01|BAD-ENC|P|2.5',
      'bad-encoding-characters',
      '102',
    ],
    ['truncated (no MSH-10)', 'MSH|^~\\&|EPIC|GHH|CARE|CARE|2026||ADT^A01', 'missing-control-id', '101'],
    [
      'binary garbage',
      Buffer.from([0x00, 0xff, 0x10, 0x00, 0x42]).toString('latin1'),
      'binary-content',
      '102',
    ],
    ['unknown sender', adtMessage({ controlId: 'UNK-1', facility: 'EVIL' }), 'unknown-sender', '207'],
    [
      'allowed facility, wrong application',
      adtMessage({ controlId: 'UNK-2', app: 'X', facility: 'CITY' }),
      'unknown-sender',
      '207',
    ],
  ])(
    'answers AR with ERR for %s, archives it as rejected, and keeps the connection',
    async (_name, text, reason, errCode) => {
      const client = await MllpTestClient.connect(engine.mllpPort);
      client.write(frameMllp(Buffer.from(text, 'latin1')));
      const [ack] = await client.waitForAcks(1);
      expect(ack?.code).toBe('AR');
      expect(ack?.text).toMatch(/\rERR\|/);
      // ERR-3 names the fault from table 0357, not a generic code.
      expect(ack?.text).toContain(`|${errCode}^`);
      const next = await client.send(adtMessage({ controlId: `after-${reason}-${Date.now()}` }));
      expect(next.code).toBe('AA');
      client.close();
      const rejected = await rows(
        `SELECT error->>'code' AS code FROM messages WHERE status = 'rejected' AND error->>'code' = $1`,
        [reason],
      );
      expect(rejected.length).toBeGreaterThan(0);
    },
  );

  it('echoes MSH-10 in the AR for an unknown sender', async () => {
    const client = await MllpTestClient.connect(engine.mllpPort);
    const ack = await client.send(adtMessage({ controlId: 'UNK-ECHO', facility: 'NOPE' }));
    client.close();
    expect([ack.code, ack.controlId]).toEqual(['AR', 'UNK-ECHO']);
  });

  it('answers AR for an oversize frame and stays in sync for the next message', async () => {
    const client = await MllpTestClient.connect(engine.mllpPort);
    const big = adtMessage({ controlId: 'BIG-1' }) + '\rNTE|1||' + 'x'.repeat(10_000);
    client.write(frameMllp(big));
    const [ack] = await client.waitForAcks(1);
    expect([ack?.code, ack?.controlId]).toEqual(['AR', 'BIG-1']);
    expect(ack?.errorText).toMatch(/exceeds/);
    expect((await client.send(adtMessage({ controlId: 'BIG-NEXT' }))).code).toBe('AA');
    client.close();
  });

  it('acknowledges a duplicate (sender, MSH-10) with AA and processes it once', async () => {
    const client = await MllpTestClient.connect(engine.mllpPort);
    const first = await client.send(adtMessage({ controlId: 'DUP-1', mrn: 'DUP' }));
    const second = await client.send(adtMessage({ controlId: 'DUP-1', mrn: 'DUP' }));
    client.close();
    expect([first.code, second.code]).toEqual(['AA', 'AA']);
    await waitFor(
      async () =>
        (await rows(`SELECT 1 FROM messages WHERE control_id = 'DUP-1' AND status <> 'received'`)).length ===
        1,
    );
    const dup = await rows(
      `SELECT duplicates, process_count, status FROM messages WHERE control_id = 'DUP-1'`,
    );
    expect(dup).toEqual([{ duplicates: 1, process_count: 1, status: 'processed' }]);
  });

  it('treats the same MSH-10 from two senders as two messages', async () => {
    const client = await MllpTestClient.connect(engine.mllpPort);
    await client.send(adtMessage({ controlId: 'SAME-ID', facility: 'GHH' }));
    await client.send(adtMessage({ controlId: 'SAME-ID', app: 'LAB', facility: 'CITY' }));
    client.close();
    expect(await rows(`SELECT sender FROM messages WHERE control_id = 'SAME-ID' ORDER BY sender`)).toEqual([
      { sender: 'EPIC^GHH' },
      { sender: 'LAB^CITY' },
    ]);
  });
});
