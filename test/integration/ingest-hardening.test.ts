/**
 * Ingest against what real and hostile senders do, end to end on a real engine: a control-ID
 * counter that restarts (same MSH-10, other content), values the store cannot index, a store
 * that refuses a row, a flood of frames from a sender that is not allowed, and a message of
 * 40,000 repetitions sent while another connection needs its ACKs.
 */
import { randomBytes } from 'node:crypto';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { contentHash } from '../../engine/src/hl7/content-hash';
import { parseHl7 } from '../../engine/src/hl7/parse-message';
import { readValue } from '../../engine/src/hl7/read-value';
import { frameMllp } from '../../engine/src/hl7/mllp-frame-reader';
import { REJECTED_HEAD_BYTES, REJECTED_ROWS_PER_PEER_PER_MINUTE } from '../../engine/src/pipeline/ingest';
import { openDb, type Db } from '../../engine/src/store/db';
import { archiveMessage } from '../../engine/src/store/message-archive';
import { migrate } from '../../engine/src/store/migrate';
import { migrations } from '../../engine/src/store/migrations/index';
import { adtMessage, MllpTestClient, type Ack } from '../helpers/mllp-test-client';
import { createSystemClient } from '../helpers/system-client';
import { TEST_DATABASE_URL, uniqueName } from '../helpers/test-db';
import { startTestEngine, waitFor, type TestEngine } from '../helpers/test-engine';

const MSH_7 = '20261125080000-0500||ADT';

/** Random letters and digits: incompressible, so PostgreSQL cannot squeeze them into an index. */
const noise = (n: number): string => randomBytes(n).toString('base64').replace(/[+/=]/g, 'x').slice(0, n);

/** One counter of an engine's /metrics, 0 when it has not been set. */
async function metric(engine: TestEngine, series: string): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${engine.httpPort}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? 0 : Number(line.slice(series.length + 1));
}

function err(ack: Ack): { location?: string; code?: string } {
  const m = parseHl7(ack.text);
  const location = readValue(m, 'ERR-2');
  const code = readValue(m, 'ERR-3.1');
  return { ...(location !== undefined ? { location } : {}), ...(code !== undefined ? { code } : {}) };
}

const percentile = (values: readonly number[], p: number): number => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil(p * sorted.length) - 1)] ?? NaN;
};

describe('ingest hardening', () => {
  let engine: TestEngine;
  let token: string;
  const rows = <R extends object = Record<string, unknown>>(
    sql: string,
    params: unknown[] = [],
  ): Promise<R[]> => engine.db.query<R>(sql, params);

  beforeAll(async () => {
    const client = await createSystemClient();
    engine = await startTestEngine({
      // No allowlist: a long MSH-4 must reach the store, as it did when it was answered AE.
      env: { SMART_CLIENTS_FILE: client.clientsFile },
    });
    token = await client.token(engine.config.http.publicUrl, 'system/Message.rus');
  });
  afterAll(async () => {
    await engine.destroy();
  });

  it('takes the same MSH-10 with other content as a new message, flagged and counted; a resend stays a duplicate', async () => {
    const client = await MllpTestClient.connect(engine.mllpPort);
    const first = adtMessage({ controlId: 'REUSED-1', mrn: 'REUSE-A' });
    const second = adtMessage({ controlId: 'REUSED-1', mrn: 'REUSE-B', event: 'A08' });
    const acks = [await client.send(first), await client.send(second)];
    expect(acks.map((a) => [a.code, a.controlId])).toEqual([
      ['AA', 'REUSED-1'],
      ['AA', 'REUSED-1'],
    ]);
    await waitFor(
      async () =>
        (await rows(`SELECT 1 FROM messages WHERE control_id = 'REUSED-1' AND status = 'received'`))
          .length === 0,
      20_000,
      'both messages processed',
    );
    // Two rows, each processed once: the second was not taken for a duplicate of the first.
    expect(
      await rows(
        `SELECT patient_key, status, process_count, duplicates FROM messages WHERE control_id = 'REUSED-1' ORDER BY id`,
      ),
    ).toEqual([
      { patient_key: 'GHH|REUSE-A', status: 'processed', process_count: 1, duplicates: 0 },
      { patient_key: 'GHH|REUSE-B', status: 'processed', process_count: 1, duplicates: 0 },
    ]);
    const archived = await rows<{ id: string; control_id_reused: boolean }>(
      `SELECT id::text AS id, control_id_reused FROM messages WHERE control_id = 'REUSED-1' ORDER BY id`,
    );
    expect(archived.map((r) => r.control_id_reused)).toEqual([false, true]);
    expect(await metric(engine, 'mllp_control_id_reused_total')).toBe(1);

    // The flag is on the message as the admin API shows it.
    const detail = async (id: string): Promise<unknown> => {
      const res = await fetch(`${engine.config.http.publicUrl}/api/messages/${id}`, {
        headers: { authorization: `Bearer ${token}` },
      });
      return ((await res.json()) as { controlIdReused?: unknown }).controlIdReused;
    };
    expect([await detail(archived[0]!.id), await detail(archived[1]!.id)]).toEqual([false, true]);

    // Resends of either, with a new MSH-7 and CRLF between segments, are duplicates of their own row.
    const resent = [
      await client.send(first.replace(MSH_7, '20261126010203+0000||ADT').replaceAll('\r', '\r\n')),
      await client.send(second.replace(MSH_7, '20261127000000+0000||ADT')),
    ];
    client.close();
    expect(resent.map((a) => a.code)).toEqual(['AA', 'AA']);
    expect(
      await rows(`SELECT duplicates, process_count FROM messages WHERE control_id = 'REUSED-1' ORDER BY id`),
    ).toEqual([
      { duplicates: 1, process_count: 1 },
      { duplicates: 1, process_count: 1 },
    ]);
    expect(await metric(engine, 'mllp_control_id_reused_total')).toBe(1);
  });

  it.each([
    ['a 5,000-character MSH-10', () => adtMessage({ controlId: noise(5_000) }), 'MSH^1^10', 'control_id'],
    [
      'a 7,500-character MSH-4',
      () => adtMessage({ controlId: 'LONG-FAC', facility: noise(7_500) }),
      'MSH^1^4',
      'sending_facility',
    ],
  ])(
    'answers %s with AR and ERR (not AE), keeps a bounded rejected row, and the connection',
    async (_what, build, location, column) => {
      const text = build();
      const client = await MllpTestClient.connect(engine.mllpPort);
      const ack = await client.send(text);
      expect(ack.code).toBe('AR');
      expect(err(ack)).toEqual({ location, code: '102' });
      // MSA-2 echoes MSH-10 as sent, so the sender can match the AR to its message.
      expect(ack.controlId).toBe(readValue(parseHl7(text), 'MSH-10'));
      const next = await client.send(adtMessage({ controlId: `AFTER-${column}` }));
      client.close();
      expect(next.code).toBe('AA');
      const [row] = await rows(
        `SELECT status, length(raw) AS kept, ${column} AS value, length(sender) AS sender_length,
                error->>'code' AS code, (error->>'frameBytes')::int AS frame_bytes
           FROM messages WHERE id = (SELECT max(id) FROM messages WHERE status = 'rejected')`,
      );
      expect(row).toEqual({
        status: 'rejected',
        kept: REJECTED_HEAD_BYTES,
        value: null,
        sender_length: expect.any(Number) as unknown,
        code: 'value-too-long',
        frame_bytes: Buffer.byteLength(text),
      });
      expect(row?.['sender_length']).toBeLessThan(500);
    },
  );

  it('answers AR when the database refuses the row (a data error), AE when it is unavailable', async () => {
    // A trigger makes PostgreSQL answer with the SQLSTATE named in MSH-10, for accepted rows only.
    await engine.db.exec(`
      CREATE FUNCTION refuse_for_test() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF NEW.status = 'received' AND NEW.control_id LIKE 'REFUSE-%' THEN
          RAISE EXCEPTION 'refused by the test' USING ERRCODE = substr(NEW.control_id, 8, 5);
        END IF;
        RETURN NEW;
      END $$;
      CREATE TRIGGER refuse_for_test BEFORE INSERT ON messages FOR EACH ROW EXECUTE FUNCTION refuse_for_test();`);
    try {
      const client = await MllpTestClient.connect(engine.mllpPort);
      const codes: Record<string, [string | undefined, string | undefined]> = {};
      for (const state of ['22001', '54000', '23502', '57P01', '08006', '23505', '40001']) {
        const ack = await client.send(adtMessage({ controlId: `REFUSE-${state}` }));
        codes[state] = [ack.code, err(ack).code];
      }
      client.close();
      expect(codes).toEqual({
        '22001': ['AR', '207'],
        '54000': ['AR', '207'],
        '23502': ['AR', '207'],
        '57P01': ['AE', '207'],
        '08006': ['AE', '207'],
        '23505': ['AE', '207'],
        '40001': ['AE', '207'],
      });
      expect(
        await rows(
          `SELECT control_id, status, error->>'code' AS code, error->>'diagnostics' AS diagnostics
             FROM messages WHERE control_id LIKE 'REFUSE-%' ORDER BY id`,
        ),
      ).toEqual(
        ['22001', '54000', '23502'].map((state) => ({
          control_id: `REFUSE-${state}`,
          status: 'rejected',
          code: 'archive-refused',
          diagnostics: `the message store refused the message (SQLSTATE ${state}): correct the message before sending it again`,
        })),
      );
    } finally {
      await engine.db.exec('DROP TRIGGER refuse_for_test ON messages; DROP FUNCTION refuse_for_test();');
    }
  });

  it("computes content_hash in SQL (migration 006's backfill) exactly as the engine does", async () => {
    const samples = [
      adtMessage({ controlId: 'H-1' }),
      adtMessage({ controlId: 'H-2' }).replaceAll('\r', '\r\n') + '\r\n\r\n',
      '\n' + adtMessage({ controlId: 'H-3', mrn: 'Müller' }).replaceAll('\r', '\n'),
      'MSH#^~\\&#A#B#C#D#2026##ADT^A01#H-4#P#2.5\rPID#1##x\\X0D\\y',
      'MSH\\^~|&\\A\\B',
      'MSH|^~\\&|A|B',
      'PID|1|2|3|4|5|6|7|8|9|10',
      '',
    ].map((s) => Buffer.from(s, 'utf8'));
    samples.push(Buffer.from([0x4d, 0x53, 0x48, 0xe9, 0x5e, 0x7e, 0x0d, 0x00, 0xff, 0x5c, 0x0a, 0x31]));
    samples.push(
      randomBytes(5_000),
      Buffer.from(noise(3_000).replace(/[a-e]/g, '\r').replace(/[f-j]/g, '\n')),
    );
    const [row] = await rows<{ hashes: string[] }>(
      'SELECT array_agg(hl7_content_hash(r) ORDER BY n) AS hashes FROM unnest($1::bytea[]) WITH ORDINALITY AS t(r, n)',
      [samples],
    );
    expect(row?.hashes).toEqual(samples.map((s) => contentHash(s)));
  });
});

describe('migration 006 on an archive that already has messages', () => {
  it.each(['postgres', 'pglite'] as const)(
    'backfills content hashes on %s, so a resend of an earlier message is still its duplicate',
    async (kind) => {
      const schema = uniqueName('mig');
      const db: Db = await openDb({
        ...(kind === 'postgres' ? { url: TEST_DATABASE_URL } : {}),
        schema,
        dataDir: 'memory://',
      });
      try {
        await migrate(
          db,
          migrations.filter((m) => m.version < 6),
        );
        const legacy = adtMessage({ controlId: 'OLD-1', mrn: 'OLD' });
        await db.query(
          `INSERT INTO messages (sender, control_id, raw, status) VALUES
             ('EPIC^GHH', 'OLD-1', $1, 'processed'), ('EVIL^X', 'OLD-2', $2, 'rejected')`,
          [Buffer.from(legacy), Buffer.from([0, 1, 2, 0xff])],
        );
        expect(
          await migrate(
            db,
            migrations.filter((m) => m.version <= 6),
          ),
        ).toEqual([6]);
        const hashes = await db.query<{ control_id: string; content_hash: string | null }>(
          'SELECT control_id, content_hash FROM messages ORDER BY id',
        );
        expect(hashes).toEqual([
          { control_id: 'OLD-1', content_hash: contentHash(Buffer.from(legacy)) },
          { control_id: 'OLD-2', content_hash: null },
        ]);
        // The rest of the schema, which today's archiveMessage writes to (migration 013's columns).
        await migrate(db);
        const columns = {
          sender: 'EPIC^GHH',
          sendingApplication: 'EPIC',
          sendingFacility: 'GHH',
          controlId: 'OLD-1',
        };
        const resend = await archiveMessage(db, {
          ...columns,
          raw: Buffer.from(legacy.replace(MSH_7, '20300101000000+0000||ADT').replaceAll('\r', '\r\n')),
        });
        expect([resend.duplicate, resend.controlIdReused]).toEqual([true, false]);
        const reused = await archiveMessage(db, {
          ...columns,
          raw: Buffer.from(adtMessage({ controlId: 'OLD-1', mrn: 'NEW' })),
        });
        expect([reused.duplicate, reused.controlIdReused]).toEqual([false, true]);
        // Status filters and the id order the per-patient code relies on are unchanged.
        expect(
          await db.query(
            'SELECT control_id, status, duplicates, control_id_reused FROM messages ORDER BY id',
          ),
        ).toEqual([
          { control_id: 'OLD-1', status: 'processed', duplicates: 1, control_id_reused: false },
          { control_id: 'OLD-2', status: 'rejected', duplicates: 0, control_id_reused: false },
          { control_id: 'OLD-1', status: 'received', duplicates: 0, control_id_reused: true },
        ]);
      } finally {
        if (kind === 'postgres') await db.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
        await db.close();
      }
    },
  );
});

describe('a flood from a sender that is not allowed', () => {
  let engine: TestEngine;
  const lines: { msg: string }[] = [];

  beforeAll(async () => {
    const sink = new Writable({
      write(chunk: Buffer, _enc, done) {
        for (const l of chunk.toString('utf8').split('\n')) {
          if (l.trim() !== '') lines.push(JSON.parse(l) as { msg: string });
        }
        done();
      },
    });
    engine = await startTestEngine({
      env: { MLLP_ALLOWED_SENDERS: 'GHH' },
      logger: pino({ level: 'info' }, sink),
    });
  });
  afterAll(async () => {
    await engine.destroy();
  });

  it('answers every frame AR, archives a bounded head of at most the per-minute budget, and counts the rest', async () => {
    const FRAMES = 500;
    const filler = noise(100_000);
    const sizeBefore = Number(
      (await engine.db.query<{ n: string }>(`SELECT pg_total_relation_size('messages')::text AS n`))[0]?.n,
    );
    // Two connections from one address share its budget.
    const clients = [
      await MllpTestClient.connect(engine.mllpPort),
      await MllpTestClient.connect(engine.mllpPort),
    ];
    const started = Date.now();
    for (let i = 0; i < FRAMES; i++) {
      const text = `${adtMessage({ controlId: `FLOOD-${i}`, facility: 'EVIL' })}\rNTE|1||${filler}`;
      clients[i % 2]!.write(frameMllp(text));
    }
    for (const c of clients) await c.waitForAcks(FRAMES / 2, 60_000);
    const elapsed = Date.now() - started;
    expect(elapsed).toBeLessThan(60_000); // one budget window
    expect(new Set(clients.flatMap((c) => c.allAcks().map((a) => a.code)))).toEqual(new Set(['AR']));
    expect(clients.flatMap((c) => c.allAcks().map((a) => a.controlId)).sort()).toEqual(
      Array.from({ length: FRAMES }, (_, i) => `FLOOD-${i}`).sort(),
    );

    // The same address still gets AA for what it may send.
    expect((await clients[0]!.send(adtMessage({ controlId: 'FLOOD-OK' }))).code).toBe('AA');
    for (const c of clients) c.close();

    const [stored] = await engine.db.query<{ n: number; kept: string; biggest: number }>(
      `SELECT count(*)::int AS n, sum(length(raw))::text AS kept, max(length(raw)) AS biggest
         FROM messages WHERE status = 'rejected' AND error->>'code' = 'unknown-sender'`,
    );
    const counted = await metric(engine, 'mllp_rejected_unarchived_total{reason="unknown-sender"}');
    expect(stored?.n).toBe(REJECTED_ROWS_PER_PEER_PER_MINUTE);
    expect(stored?.biggest).toBeLessThanOrEqual(REJECTED_HEAD_BYTES);
    expect(Number(stored?.kept)).toBeLessThanOrEqual(REJECTED_ROWS_PER_PEER_PER_MINUTE * REJECTED_HEAD_BYTES);
    expect(counted).toBe(FRAMES - REJECTED_ROWS_PER_PEER_PER_MINUTE);
    // 50 MB arrived; the archive grew by the heads (and their index entries) only.
    const sizeAfter = Number(
      (await engine.db.query<{ n: string }>(`SELECT pg_total_relation_size('messages')::text AS n`))[0]?.n,
    );
    expect(sizeAfter - sizeBefore).toBeLessThan(2 * 1024 * 1024);

    // One line per archived rejection, and one for the rest of the minute, not one per frame.
    expect(lines.filter((l) => l.msg === 'message rejected')).toHaveLength(REJECTED_ROWS_PER_PEER_PER_MINUTE);
    expect(
      lines.filter((l) => l.msg.startsWith('rejected frames over the per-peer archive limit')),
    ).toHaveLength(1);
    console.info(`flood: ${FRAMES} frames of ${filler.length} bytes answered in ${elapsed} ms`);
  });
});

describe('a message of 40,000 repetitions', () => {
  let engine: TestEngine;

  beforeAll(async () => {
    engine = await startTestEngine({ env: { MLLP_ALLOWED_SENDERS: 'GHH' } });
  });
  afterAll(async () => {
    await engine.destroy();
  });

  it('gets AR at once, while another connection keeps getting AA with low latency', async () => {
    const names = Array.from({ length: 40_000 }, (_, i) => `D${i}^J`).join('~');
    const heavy = (i: number): string =>
      [
        `MSH|^~\\&|EPIC|GHH|CARE|CARE|20261125080000-0500||ADT^A01^ADT_A01|HEAVY-${i}|P|2.5.1`,
        'EVN|A01|20261125080000-0500',
        `PID|1||HEAVY${i}^^^GHH^MR||${names}||19800101|F`,
        'PV1|1|I|ICU^101^A',
      ].join('\r');
    const heavyBytes = Buffer.byteLength(heavy(0));
    const heavyClient = await MllpTestClient.connect(engine.mllpPort);
    const normalClient = await MllpTestClient.connect(engine.mllpPort);
    expect((await normalClient.send(adtMessage({ controlId: 'WARM-UP' }))).code).toBe('AA');

    let done = false;
    const heavyLatencies: number[] = [];
    const heavyAcks: Ack[] = [];
    const heavyLoop = (async () => {
      for (let i = 0; !done; i++) {
        const t = performance.now();
        heavyAcks.push(await heavyClient.send(heavy(i)));
        heavyLatencies.push(performance.now() - t);
      }
    })();
    const latencies: number[] = [];
    const codes = new Set<string | undefined>();
    for (let i = 0; i < 50; i++) {
      const t = performance.now();
      codes.add((await normalClient.send(adtMessage({ controlId: `NORMAL-${i}`, mrn: `N${i % 7}` }))).code);
      latencies.push(performance.now() - t);
    }
    done = true;
    await heavyLoop;
    heavyClient.close();
    normalClient.close();

    expect(heavyAcks.length).toBeGreaterThan(0);
    expect(new Set(heavyAcks.map((a) => a.code))).toEqual(new Set(['AR']));
    expect(err(heavyAcks[0]!)).toEqual({ location: 'PID^1^5', code: '207' });
    expect(heavyAcks[0]?.errorText).toBe(
      "PID-5 (segment 3) has more than 1000 repetitions, this interface's limit",
    );
    expect(codes).toEqual(new Set(['AA']));
    const p99 = percentile(latencies, 0.99);
    console.info(
      `repetitions: ${heavyAcks.length} heavy frames of ${heavyBytes} bytes, AR p50 ${percentile(heavyLatencies, 0.5).toFixed(1)} ms ` +
        `p99 ${percentile(heavyLatencies, 0.99).toFixed(1)} ms; other connection: 50 AA, p50 ${percentile(latencies, 0.5).toFixed(1)} ms ` +
        `p99 ${p99.toFixed(1)} ms`,
    );
    expect(percentile(heavyLatencies, 0.99)).toBeLessThan(1_000);
    expect(p99).toBeLessThan(500);
    const [rejected] = await engine.db.query<{ n: number; biggest: number }>(
      `SELECT count(*)::int AS n, max(length(raw)) AS biggest FROM messages WHERE error->>'code' = 'too-many-repetitions'`,
    );
    expect(rejected?.n).toBe(Math.min(heavyAcks.length, REJECTED_ROWS_PER_PEER_PER_MINUTE));
    expect(rejected?.biggest).toBeLessThanOrEqual(REJECTED_HEAD_BYTES);
  });
});
