/**
 * When the store or the queue goes away the sender gets AE (and retries); nothing is lost, and
 * once the service is back the same message is accepted and processed.
 */
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { adtMessage, MllpTestClient } from '../helpers/mllp-test-client';
import { startTcpProxy, type TcpProxy } from '../helpers/tcp-proxy';
import { startTestEngine, waitFor, type TestEngine } from '../helpers/test-engine';

let engine: TestEngine | undefined;
let proxy: TcpProxy | undefined;

afterEach(async () => {
  proxy?.restore();
  await engine?.destroy();
  await proxy?.close();
  engine = undefined;
  proxy = undefined;
});

describe('transient failures', () => {
  it('answers AE while Redis is unreachable, then AA and processing once it is back', async () => {
    proxy = await startTcpProxy(6379);
    engine = await startTestEngine({
      env: { REDIS_URL: `redis://127.0.0.1:${proxy.port}` },
      sweepIntervalMs: 200,
      sweepOlderThanMs: 0,
    });
    const client = await MllpTestClient.connect(engine.mllpPort);
    expect((await client.send(adtMessage({ controlId: 'R-OK', mrn: 'R1' }))).code).toBe('AA');

    proxy.cut();
    const during = await client.send(adtMessage({ controlId: 'R-DOWN', mrn: 'R2' }));
    expect([during.code, during.controlId]).toEqual(['AE', 'R-DOWN']);
    expect(during.text).toMatch(/\rERR\|/);
    // Archived before the queue failed: the row waits for Redis, it is not lost.
    expect(await engine.db.query(`SELECT status FROM messages WHERE control_id = 'R-DOWN'`)).toEqual([
      { status: 'received' },
    ]);

    proxy.restore();
    await waitFor(
      async () => (await client.send(adtMessage({ controlId: 'R-DOWN', mrn: 'R2' }))).code === 'AA',
      15_000,
      'AA after Redis is back',
    );
    await waitFor(
      async () =>
        (
          await engine!.db.query(
            `SELECT 1 FROM messages WHERE control_id = 'R-DOWN' AND status = 'processed'`,
          )
        ).length === 1,
      20_000,
      'R-DOWN processed',
    );
    client.close();
    const [row] = await engine.db.query<{ process_count: number }>(
      `SELECT process_count FROM messages WHERE control_id = 'R-DOWN'`,
    );
    expect(row?.process_count).toBe(1);
  });

  it('answers AE while PostgreSQL is unreachable, then AA once it is back', async () => {
    proxy = await startTcpProxy(5432);
    engine = await startTestEngine({
      env: { DATABASE_URL: `postgres://postgres@127.0.0.1:${proxy.port}/test` },
    });
    const client = await MllpTestClient.connect(engine.mllpPort);
    expect((await client.send(adtMessage({ controlId: 'P-OK' }))).code).toBe('AA');

    proxy.cut();
    const during = await client.send(adtMessage({ controlId: 'P-DOWN' }), 15_000);
    expect([during.code, during.controlId]).toEqual(['AE', 'P-DOWN']);
    const garbage = await client.send('PID|no header', 15_000);
    // Even a message we would reject is answered AE while it cannot be archived: it is not lost.
    expect(garbage.code).toBe('AE');

    proxy.restore();
    await waitFor(
      async () => (await client.send(adtMessage({ controlId: 'P-DOWN' }))).code === 'AA',
      15_000,
      'AA after PostgreSQL is back',
    );
    client.close();
  });

  it('logs an outage once when it starts and once when it ends, not once per message', async () => {
    const lines: { msg: string; component?: string }[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _enc, done) {
        for (const l of chunk.toString('utf8').split('\n')) {
          if (l.trim() !== '') lines.push(JSON.parse(l) as { msg: string; component?: string });
        }
        done();
      },
    });
    proxy = await startTcpProxy(5432);
    engine = await startTestEngine({
      env: { DATABASE_URL: `postgres://postgres@127.0.0.1:${proxy.port}/test` },
      logger: pino({ level: 'info' }, sink),
    });
    const client = await MllpTestClient.connect(engine.mllpPort);
    expect((await client.send(adtMessage({ controlId: 'L-OK' }))).code).toBe('AA');
    proxy.cut();
    for (let i = 0; i < 10; i++) {
      expect((await client.send(adtMessage({ controlId: `L-DOWN-${i}` }), 15_000)).code).toBe('AE');
    }
    proxy.restore();
    await waitFor(
      async () => (await client.send(adtMessage({ controlId: 'L-BACK' }))).code === 'AA',
      15_000,
      'AA after PostgreSQL is back',
    );
    client.close();
    const archive = lines.filter((l) => l.component?.startsWith('message archive') === true);
    // Ten AEs, one outage: down once, up once.
    expect(archive.map((l) => l.msg)).toEqual([
      'message archive (ingest answers AE) unavailable',
      'message archive (ingest answers AE) available again',
    ]);
    // Nothing multi-line: every record is one JSON line.
    expect(lines.every((l) => typeof l.msg === 'string' && !l.msg.includes('\n'))).toBe(true);
  });
});
