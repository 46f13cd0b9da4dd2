/**
 * The simulator as a user runs it: a child process speaking MLLP (node-hl7-client) to a real
 * listener whose ingest archives in PostgreSQL and queues in Redis. Every message must come back
 * AA and be in the archive; a non-AA ACK or a dead port must make the CLI exit non-zero.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../engine/src/observability/logger';
import { createMetrics } from '../../engine/src/observability/metrics';
import { createAckHandler } from '../../engine/src/pipeline/ack-handler';
import { startMllpListener, type MllpListener } from '../../engine/src/pipeline/mllp-listener';
import { createProcessQueue, type ProcessJobData } from '../../engine/src/queue/process-queue';
import { createRedis } from '../../engine/src/queue/redis-connection';
import { createTestDb, TEST_REDIS_URL, uniqueName, type TestDb } from '../helpers/test-db';

const REPO = join(import.meta.dirname, '..', '..');

interface CliRun {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

function runSimulate(args: readonly string[]): Promise<CliRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'engine/src/cli/simulate.ts', ...args], {
      cwd: REPO,
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 50_000);
    child.once('error', reject);
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

async function waitForRedis(redis: Redis): Promise<void> {
  if (redis.status !== 'ready') await once(redis, 'ready');
}

function lastJson(stdout: string): Record<string, unknown> {
  const line = stdout.trim().split('\n').pop() ?? '{}';
  return JSON.parse(line) as Record<string, unknown>;
}

describe('npm run simulate against a real MLLP listener', () => {
  let testDb: TestDb;
  let redis: Redis;
  let queue: Queue<ProcessJobData>;
  let listener: MllpListener;

  beforeAll(async () => {
    testDb = await createTestDb('sim');
    redis = createRedis(TEST_REDIS_URL, { role: 'producer' });
    // Producers do not queue commands while connecting (they answer AE instead), so wait for Redis.
    await waitForRedis(redis);
    queue = createProcessQueue(redis, uniqueName('simq'));
    const logger = createLogger('silent');
    const maxFrameBytes = 1024 * 1024;
    listener = await startMllpListener({
      host: '127.0.0.1',
      port: 0,
      maxFrameBytes,
      idleTimeoutMs: 60_000,
      maxConnections: 20,
      maxConnectionsPerPeer: 20,
      frameTimeoutMs: 30_000,
      handle: createAckHandler({ db: testDb.db, queue, allowedSenders: undefined, maxFrameBytes, logger }),
      logger,
      metrics: createMetrics(false),
    });
  });

  afterAll(async () => {
    await listener.close();
    await queue.obliterate({ force: true });
    await queue.close();
    redis.disconnect();
    await testDb.drop();
  });

  it('sends a generated multi-facility feed over 3 connections: every message AA, archived and queued', async () => {
    const runId = 'itgen1';
    const run = await runSimulate([
      ...['--port', String(listener.port), '--count', '150', '--rate', '300', '--connections', '3'],
      ...['--patients', '40', '--facilities', '3', '--seed', 'it', '--run-id', runId, '--json'],
    ]);
    expect(run.stderr).toContain('simulate: 40 synthetic patients across 3 facilities');
    expect(run.code).toBe(0);
    const result = lastJson(run.stdout);
    expect(result).toMatchObject({
      clean: true,
      sent: 150,
      acked: 150,
      failed: 0,
      ackCodes: { AA: 150 },
      controlIdMismatches: 0,
    });
    const rows = await testDb.db.query<{ control_id: string; sender: string; version: string }>(
      `SELECT control_id, sender, version FROM messages WHERE control_id LIKE $1`,
      [`${runId}.%`],
    );
    expect(rows).toHaveLength(150);
    expect(new Set(rows.map((r) => r.control_id)).size).toBe(150);
    expect(new Set(rows.map((r) => r.sender.split('^')[1])).size).toBe(3);
    expect(new Set(rows.map((r) => r.version))).toEqual(new Set(['2.5.1', '2.3']));
    expect(await queue.getJobCountByTypes('wait', 'prioritized', 'delayed')).toBeGreaterThanOrEqual(150);
  });

  it('replays a corpus whose files share an MSH-10 as distinct messages, suffixing MSH-10 with the run ID', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sim-corpus-'));
    try {
      for (const [i, event] of ['A01', 'A08', 'A03'].entries()) {
        const text = `\uFEFFMSH|^~\\&|CORP|CORPFAC|CARE|CARE|20240101120000||ADT^${event}|SAMEID|P|2.5.1\nPID|1||MRN${i}^^^CORPFAC^MR||DOE^JANE\n`;
        writeFileSync(join(dir, `msg-${i}.hl7`), text);
      }
      const run = await runSimulate([
        '--port',
        String(listener.port),
        '--corpus',
        dir,
        '--rate',
        '0',
        '--run-id',
        'itcorp',
      ]);
      expect(run.code).toBe(0);
      expect(run.stdout).toContain('MSH-10 suffixed with "-itcorp"');
      expect(run.stdout).toContain('ACKs received     3  (AA 3)');
      const rows = await testDb.db.query<{ control_id: string; duplicates: number }>(
        `SELECT control_id, duplicates FROM messages WHERE sender = 'CORP^CORPFAC'`,
      );
      expect(rows).toHaveLength(3);
      // Same MSH-10 in every file, yet three rows, none counted as a duplicate.
      expect(rows.map((r) => r.control_id).sort()).toEqual([
        'SAMEID-itcorp',
        'SAMEID-itcorp-2',
        'SAMEID-itcorp-3',
      ]);
      expect(rows.every((r) => r.duplicates === 0)).toBe(true);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('exits non-zero when an ACK is not AA', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sim-bad-'));
    try {
      writeFileSync(
        join(dir, 'bad-encoding.hl7'),
        'MSH|AB12|BAD|BADFAC|CARE|CARE|20240101||ADT^A01|BAD1|P|2.5.1\rPID|1||X\r',
      );
      const run = await runSimulate(['--port', String(listener.port), '--corpus', dir, '--run-id', 'itbad']);
      expect(run.code).toBe(1);
      expect(run.stdout).toMatch(/ACKs received {5}1 {2}\(AR 1\)/);
      expect(run.stdout).toContain('result: FAILED');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('exits non-zero with a clear reason when nothing listens on the port', async () => {
    const port = await new Promise<number>((resolve) => {
      const probe = net.createServer().listen(0, '127.0.0.1', () => {
        const address = probe.address();
        probe.close(() => resolve(typeof address === 'object' && address !== null ? address.port : 1));
      });
    });
    const run = await runSimulate(['--port', String(port), '--count', '3', '--patients', '5']);
    expect(run.code).toBe(1);
    expect(run.stdout).toContain('connect-timeout 1');
  });
});
