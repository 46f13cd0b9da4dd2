/**
 * A notice outlives the process that wrote it: the worker engine is killed (SIGKILL, in a child
 * process) after the notice is stored and before it could be delivered, and an engine started
 * on the same database and queue prefix delivers it exactly once, whether Redis still holds the
 * delivery job or lost it with the crash.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import { relayLeftoverNotices } from '../../engine/src/pipeline/relay-notices';
import { createDeliverQueue, DELIVER_QUEUE } from '../../engine/src/queue/deliver-queue';
import {
  adt,
  demo,
  PCP_NPI,
  registerPractice,
  settle,
  useNotifyHarness,
  waitForDelivery,
} from '../helpers/notify-harness';
import { createTestDb, TEST_DATABASE_URL, TEST_REDIS_URL, uniqueName } from '../helpers/test-db';
import { obliterateQueue, waitFor, type TestEngine } from '../helpers/test-engine';

const h = useNotifyHarness();

const children: ChildProcess[] = [];
afterEach(() => {
  for (const c of children.splice(0)) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
});

/** The workers of an engine, in a process of their own that the test can kill. */
async function startWorkerProcess(engine: TestEngine, env: Record<string, string>): Promise<ChildProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'test/helpers/worker-process.ts'], {
    env: {
      ...process.env,
      ENGINE_ROLE: 'worker',
      MLLP_PORT: '0',
      MLLP_HOST: '127.0.0.1',
      HTTP_PORT: '0',
      HTTP_HOST: '127.0.0.1',
      PUBLIC_URL: engine.config.http.publicUrl,
      REDIS_URL: TEST_REDIS_URL,
      QUEUE_PREFIX: engine.prefix,
      DATABASE_URL: TEST_DATABASE_URL,
      DATABASE_SCHEMA: engine.schema,
      MAPPINGS_DIR: './mappings',
      LOG_LEVEL: 'silent',
      ENDPOINT_ALLOWED_HOSTS: '127.0.0.1',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  children.push(child);
  await new Promise<void>((resolve, reject) => {
    child.stdout?.on('data', (d: Buffer) => {
      if (d.toString().includes('ready')) resolve();
    });
    child.once('exit', (code) => reject(new Error(`worker process exited early (${String(code)})`)));
  });
  return child;
}

async function kill(child: ChildProcess): Promise<void> {
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGKILL');
  await exited;
}

async function deleteDeliverQueue(prefix: string): Promise<number> {
  const redis = new Redis(TEST_REDIS_URL);
  const keys = await redis.keys(`${prefix}:${DELIVER_QUEUE}:*`);
  const deleted = keys.length > 0 ? await redis.del(...keys) : 0;
  redis.disconnect();
  return deleted;
}

describe('a notice survives the engine being killed before delivery', () => {
  for (const redisLost of [false, true]) {
    it(
      redisLost
        ? 'delivers once after a restart when Redis lost the delivery job too'
        : 'delivers once after a restart when the delivery job waits in Redis',
      async () => {
        const receiver = await h.receiver();
        await receiver.stop();
        // This engine takes messages and serves the API; the workers run in the child.
        const front = await h.setup({ parts: { ingest: true, worker: false, http: true } });
        const practice = await registerPractice(front, `${receiver.url}/fhir`);
        // Long waits between attempts, so the kill comes while the notice waits for its next one.
        const worker = await startWorkerProcess(front.engine, {
          NOTIFY_RETRY_BASE_MS: '3000',
          NOTIFY_RETRY_MAX_MS: '3000',
        });
        const mrn = redisLost ? 'RS-2' : 'RS-1';
        await front.sendProcessed(
          adt(
            demo({
              mrn,
              family: redisLost ? 'Lazarus' : 'Phoenix',
              phone: redisLost ? '5550902' : '5550901',
            }),
            {
              pcpNpi: PCP_NPI,
            },
          ),
        );
        const firstTry = await waitForDelivery(
          front,
          { endpoint: practice.endpoint },
          (d) => d.attempts >= 1,
          'a first attempt against the receiver that is down',
        );
        expect(firstTry.status).toBe('retrying');
        await kill(worker);
        if (redisLost) expect(await deleteDeliverQueue(front.engine.prefix)).toBeGreaterThan(0);
        await receiver.start();
        // Nothing delivers while no worker runs.
        await settle(500);
        expect(receiver.requests).toHaveLength(0);

        await h.setup({
          parts: { ingest: false, worker: true, http: false },
          reuse: { schema: front.engine.schema, prefix: front.engine.prefix },
        });
        await waitFor(
          async () => (await front.delivery(firstTry.id)).status === 'delivered',
          20_000,
          'delivered after the restart',
        );
        await settle(1_500);
        expect(receiver.requests).toHaveLength(1);
        expect(receiver.accepted()).toHaveLength(1);
        const done = await front.delivery(firstTry.id);
        expect(done.log.map((a) => a.outcome)).toEqual(['retry', 'delivered']);
        // Exactly one event and one notice per recipient, whatever the restart re-queued.
        expect(await front.outbox()).toHaveLength(1);
        expect((await front.deliveries()).map((d) => d.channel).sort()).toEqual(['davinci', 'inbox']);
      },
      30_000,
    );
  }
});

describe('the start-up relay of notices', () => {
  it('relays more than one page of open notices, each once, and ends', async () => {
    const t = await createTestDb('relay');
    const prefix = uniqueName('q');
    const redis = new Redis(TEST_REDIS_URL, { maxRetriesPerRequest: null });
    const queue = createDeliverQueue(redis, prefix, 3);
    try {
      const [outbox] = await t.db.query<{ id: string }>(
        `INSERT INTO outbox (event_key, message_id, kind, payload) VALUES ('admit:Encounter/e/_history/1', 1, 'admit', '{}')
         RETURNING id::text AS id`,
      );
      // 1,100 notices never queued (a crash right after their commit), and one waiting for a
      // retry that is not due for a minute (Redis lost its delayed job).
      await t.db.query(
        `INSERT INTO notifications (notice_id, outbox_id, event_key, kind, channel, target, reasons, created_at)
         SELECT gen_random_uuid(), $1, 'admit:Encounter/e/_history/1', 'admit', 'davinci', 'Endpoint/e' || g, '[]',
                now() - interval '5 seconds'
           FROM generate_series(1, 1100) g`,
        [outbox?.id],
      );
      await t.db.query(
        `INSERT INTO notifications (notice_id, outbox_id, event_key, kind, channel, target, reasons, status,
                                    attempts, created_at, queued_at, next_attempt_at)
         VALUES (gen_random_uuid(), $1, 'admit:Encounter/e/_history/1', 'admit', 'davinci', 'Endpoint/waiting', '[]',
                 'retrying', 1, now() - interval '2 minutes', now() - interval '1 minute', now() + interval '1 minute')`,
        [outbox?.id],
      );
      const relayed = await Promise.race([
        relayLeftoverNotices(t.db, queue, 0),
        new Promise<never>((_, reject) =>
          setTimeout(() => reject(new Error('relay did not finish')), 15_000),
        ),
      ]);
      expect(relayed).toBe(1101);
      expect(await queue.count()).toBe(1101);
      // The waiting notice keeps its wait.
      expect(await queue.getDelayedCount()).toBe(1);
      const [open] = await t.db.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM notifications WHERE queued_at IS NULL`,
      );
      expect(open?.n).toBe(0);
      // A second start-up adds no job twice.
      expect(await relayLeftoverNotices(t.db, queue, 0)).toBe(1101);
      expect(await queue.count()).toBe(1101);
    } finally {
      await queue.close();
      redis.disconnect();
      await obliterateQueue(prefix);
      await t.drop();
    }
  }, 30_000);
});
