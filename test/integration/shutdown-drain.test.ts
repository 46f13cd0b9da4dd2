/**
 * The README's "Shutdown", against the engine as `npm start` runs it with PostgreSQL: the MLLP
 * and HTTP parent plus the niced worker child. SIGTERM in the middle of a stream drains (every AA
 * stands for an archive row, nothing is left half-processed, both processes exit 0, the ports
 * close), a restart finishes what was left, and a dead process on either side stops the other.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { WORKER_NICENESS } from '../../engine/src/engine';
import { frameMllp } from '../../engine/src/hl7/mllp-frame-reader';
import { PROCESS_QUEUE } from '../../engine/src/queue/process-queue';
import { openDb, type Db } from '../../engine/src/store/db';
import { adtMessage, MllpTestClient } from '../helpers/mllp-test-client';
import {
  childrenOf,
  collectStdout,
  exitWithin,
  isRunning,
  killAll,
  portRefuses,
  waitForOutput,
} from '../helpers/process-tree';
import { TEST_DATABASE_URL, TEST_REDIS_URL, uniqueName } from '../helpers/test-db';
import { dropEngineData, freePort, waitFor } from '../helpers/test-engine';

const repo = path.resolve(import.meta.dirname, '../..');

interface EngineProcess {
  readonly child: ChildProcess;
  readonly pid: number;
  readonly workerPid: number;
  readonly mllpPort: number;
  readonly httpPort: number;
  readonly stdout: { readonly text: () => string };
}

const pids = new Set<number>();
const stores: { schema: string; prefix: string }[] = [];
const dbs: Db[] = [];

afterEach(async () => {
  killAll(pids);
  pids.clear();
  for (const db of dbs.splice(0)) await db.close();
  for (const s of stores.splice(0)) await dropEngineData(s.schema, s.prefix);
});

function newStore(): { schema: string; prefix: string } {
  const store = { schema: uniqueName('drain'), prefix: uniqueName('qdrain') };
  stores.push(store);
  return store;
}

/** The engine's environment: this process's, without npm's or any engine setting of its own. */
function baseEnv(): NodeJS.ProcessEnv {
  return Object.fromEntries(
    Object.entries(process.env).filter(
      ([k]) =>
        !k.startsWith('npm_') &&
        !/^(MLLP_|HTTP_|DATABASE_|PUBLIC_URL|REDIS_URL|QUEUE_PREFIX|DATA_DIR|SMART_|EHR_|TOKEN_|WORKER_|ENGINE_ROLE|LOG_LEVEL)/.test(
          k,
        ),
    ),
  );
}

/** `node --import tsx engine/src/cli/start.ts`, as `npm start` runs it, with PostgreSQL. */
async function startEngineProcess(store: { schema: string; prefix: string }): Promise<EngineProcess> {
  const [mllpPort, httpPort] = [await freePort(), await freePort()];
  const child = spawn(process.execPath, ['--import', 'tsx', 'engine/src/cli/start.ts'], {
    cwd: repo,
    env: {
      ...baseEnv(),
      DATABASE_URL: TEST_DATABASE_URL,
      DATABASE_SCHEMA: store.schema,
      QUEUE_PREFIX: store.prefix,
      REDIS_URL: TEST_REDIS_URL,
      MLLP_HOST: '127.0.0.1',
      MLLP_PORT: String(mllpPort),
      HTTP_HOST: '127.0.0.1',
      HTTP_PORT: String(httpPort),
      MAPPINGS_DIR: './mappings',
      LOG_LEVEL: 'info',
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const pid = child.pid;
  if (pid === undefined) throw new Error('engine did not start');
  pids.add(pid);
  const stdout = collectStdout(child);
  await waitForOutput(child, stdout, 'engine ready', 90_000);
  expect(stdout.text()).toContain('engine ready: role all, store postgres');
  // The parent forked the worker before it said ready (tsx's esbuild service is a child too).
  const workers = childrenOf(pid).filter((p) => p.cmdline.includes('engine/src/cli/start.ts'));
  expect(workers).toHaveLength(1);
  const workerPid = workers[0]?.pid ?? 0;
  pids.add(workerPid);
  return { child, pid, workerPid, mllpPort, httpPort, stdout };
}

async function storeDb(schema: string): Promise<Db> {
  const db = await openDb({ url: TEST_DATABASE_URL, schema, dataDir: 'memory://' });
  dbs.push(db);
  return db;
}

interface Row {
  control_id: string;
  status: string;
  process_count: number;
  duplicates: number;
}

const rowsOf = (db: Db, like: string) =>
  db.query<Row>(
    'SELECT control_id, status, process_count, duplicates FROM messages WHERE control_id LIKE $1 ORDER BY id',
    [like],
  );

async function processed(db: Db, like: string): Promise<number> {
  const [row] = await db.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM messages WHERE status = 'processed' AND control_id LIKE $1`,
    [like],
  );
  return row?.n ?? 0;
}

/** Processing jobs BullMQ holds as active: a job a worker gave up on stays there until stalled. */
async function activeJobs(prefix: string): Promise<number> {
  const redis = new Redis(TEST_REDIS_URL, { maxRetriesPerRequest: null });
  const queue = new Queue(PROCESS_QUEUE, { connection: redis, prefix });
  try {
    return await queue.getActiveCount();
  } finally {
    await queue.close();
    redis.disconnect();
  }
}

/**
 * Streams `total` A08s (for `patients` patients) over `connections` connections, each keeping
 * up to `window` messages ahead of its ACKs, until all are sent or the engine closes the
 * connection. Returns the clients (their ACKs) and the messages by control ID.
 */
function stream(
  port: number,
  run: string,
  o: { total: number; patients: number; connections: number; window: number },
): { clients: Promise<MllpTestClient[]>; done: Promise<void>; messages: Map<string, string> } {
  const messages = new Map<string, string>();
  for (let i = 0; i < o.total; i++) {
    const controlId = `${run}-${i}`;
    messages.set(controlId, adtMessage({ controlId, mrn: `${run}-P${i % o.patients}`, event: 'A08' }));
  }
  const ids = [...messages.keys()];
  const clients = Promise.all(Array.from({ length: o.connections }, () => MllpTestClient.connect(port)));
  const done = clients.then(async (cs) => {
    await Promise.all(
      cs.map(async (client, c) => {
        const mine = ids.filter((_, i) => i % o.connections === c);
        let sent = 0;
        while (sent < mine.length && !client.closed) {
          const batch = mine.slice(sent, sent + 10);
          client.write(Buffer.concat(batch.map((id) => frameMllp(messages.get(id) ?? ''))));
          sent += batch.length;
          await client.waitForAcks(Math.max(0, sent - o.window), 30_000).catch(() => undefined);
        }
        await client.waitForAcks(sent, 30_000).catch(() => undefined);
      }),
    );
  });
  return { clients, done, messages };
}

describe('shutdown of the engine as npm start runs it (PostgreSQL: parent and worker child)', () => {
  it('drains on SIGTERM mid-stream, and a restart processes what was left', async () => {
    const store = newStore();
    const engine = await startEngineProcess(store);
    const worker = readFileSync(`/proc/${engine.workerPid}/stat`, 'utf8');
    // Below the listener: niceness WORKER_NICENESS (field 19 of /proc/<pid>/stat).
    expect(worker.slice(worker.lastIndexOf(')') + 2).split(' ')[16]).toBe(String(WORKER_NICENESS));

    const db = await storeDb(store.schema);
    const run = uniqueName('d');
    // Warm-up: the worker is running jobs, not starting, when the stream comes.
    const warm = await MllpTestClient.connect(engine.mllpPort);
    for (let i = 0; i < 10; i++) {
      expect((await warm.send(adtMessage({ controlId: `w${run}-${i}`, mrn: `w${run}-${i}` }))).code).toBe(
        'AA',
      );
    }
    warm.close();
    await waitFor(async () => (await processed(db, `w${run}-%`)) === 10, 60_000, 'the warm-up processed');

    const sending = stream(engine.mllpPort, run, { total: 300, patients: 30, connections: 2, window: 30 });
    const clients = await sending.clients;
    const acked = () => clients.reduce((n, c) => n + c.allAcks().length, 0);
    // Mid-stream, with the worker busy on the stream's jobs.
    await waitFor(
      async () => acked() >= 60 && (await processed(db, `${run}-%`)) > 0,
      60_000,
      '60 ACKs and a processed message',
    );

    const signalledAt = Date.now();
    engine.child.kill('SIGTERM');
    const exit = await exitWithin(engine.child, 30_000, 'engine');
    const drainMs = Date.now() - signalledAt;
    await sending.done;

    expect(exit).toEqual({ code: 0, signal: null });
    expect(engine.stdout.text()).toMatch(/"signal":"SIGTERM".*"msg":"draining: no new messages/);
    expect(isRunning(engine.workerPid)).toBe(false);
    expect(() => process.kill(engine.workerPid, 0)).toThrow(expect.objectContaining({ code: 'ESRCH' }));
    expect(await portRefuses(engine.mllpPort)).toBe(true);
    expect(await portRefuses(engine.httpPort)).toBe(true);
    // The engine closed the connections: the sender knows to resend what got no ACK.
    for (const c of clients) expect(c.closed).toBe(true);

    const acks = clients.flatMap((c) => c.allAcks());
    // Still coming when the signal came: the stream was cut, not finished.
    expect(acks.length).toBeLessThan(300);
    // No AE or AR for messages in flight during the drain.
    expect(acks.filter((a) => a.code !== 'AA')).toEqual([]);
    const aa = new Set(acks.map((a) => a.controlId ?? ''));
    expect(aa.size).toBe(acks.length);

    // Workers finished their jobs: none was left active (it would wait for BullMQ's stall check).
    expect(await activeJobs(store.prefix)).toBe(0);
    const rows = await rowsOf(db, `${run}-%`);
    const byId = new Map(rows.map((r) => [r.control_id, r]));
    // AA means the archive row exists; a row need not have its ACK (archived while the socket closed).
    for (const id of aa) expect(byId.get(id), `row of AA'd ${id}`).toBeDefined();
    expect(byId.size).toBe(rows.length);
    for (const r of rows) expect(sending.messages.has(r.control_id)).toBe(true);
    // Nothing half-done: each row is either waiting or processed exactly once.
    for (const r of rows) {
      expect([
        ['received', 0],
        ['processed', 1],
      ]).toContainEqual([r.status, r.process_count]);
    }
    const archivedUnacked = rows.filter((r) => !aa.has(r.control_id)).length;
    const left = rows.filter((r) => r.status === 'received').length;
    // The drain answers every frame it read before it closes.
    expect(archivedUnacked).toBe(0);
    console.info(
      `drain: ${acks.length} AA, ${rows.length} rows (${archivedUnacked} without ACK), ${left} received; exit after ${drainMs} ms`,
    );

    // (b) A restart on the same schema and prefix processes every received row, and the sender
    // resending whatever got no AA gets AA for each: duplicates are counted, not processed twice.
    const again = await startEngineProcess(store);
    const resend = [...sending.messages.keys()].filter((id) => !aa.has(id));
    const client = await MllpTestClient.connect(again.mllpPort);
    client.write(Buffer.concat(resend.map((id) => frameMllp(sending.messages.get(id) ?? ''))));
    const resent = await client.waitForAcks(resend.length, 60_000);
    client.close();
    expect(resent.filter((a) => a.code !== 'AA')).toEqual([]);
    let final: Row[] = [];
    await waitFor(
      async () => {
        final = await rowsOf(db, `${run}-%`);
        return final.length === 300 && final.every((r) => r.status === 'processed');
      },
      90_000,
      'every message processed after the restart',
    ).catch((err: unknown) => {
      const statuses = final.reduce<Record<string, number>>(
        (n, r) => ({ ...n, [r.status]: (n[r.status] ?? 0) + 1 }),
        {},
      );
      throw new Error(`${String(err)}: ${final.length} rows ${JSON.stringify(statuses)}`);
    });
    expect(new Set(final.map((r) => r.control_id))).toEqual(new Set(sending.messages.keys()));
    expect(final.filter((r) => r.process_count !== 1)).toEqual([]);
    // Every message archived before the drain but not acknowledged came back as a duplicate.
    expect(final.filter((r) => r.duplicates > 0)).toHaveLength(archivedUnacked);

    again.child.kill('SIGTERM');
    expect(await exitWithin(again.child, 30_000, 'restarted engine')).toEqual({ code: 0, signal: null });
    expect(isRunning(again.workerPid)).toBe(false);
  }, 240_000);

  it('stops with exit code 1 when its worker process is killed', async () => {
    const engine = await startEngineProcess(newStore());
    process.kill(engine.workerPid, 'SIGKILL');
    expect(await exitWithin(engine.child, 30_000, 'engine')).toEqual({ code: 1, signal: null });
    expect(engine.stdout.text()).toContain('worker process exited: stopping the engine');
    expect(await portRefuses(engine.mllpPort)).toBe(true);
    expect(await portRefuses(engine.httpPort)).toBe(true);
  }, 120_000);

  it('stops its worker process when the parent is killed', async () => {
    const engine = await startEngineProcess(newStore());
    process.kill(engine.pid, 'SIGKILL');
    await exitWithin(engine.child, 10_000, 'engine');
    await waitFor(() => Promise.resolve(!isRunning(engine.workerPid)), 30_000, 'the orphaned worker to exit');
  }, 120_000);
});
