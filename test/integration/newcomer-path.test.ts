/**
 * The README's path for a new user, run as they would: `npm start` (embedded PGlite store), the
 * simulator over real MLLP, a token from `npm run client`, the messages in `/api/messages`, and a
 * clean shutdown on SIGTERM. Also: without Redis, start-up fails with one actionable line.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { uniqueName } from '../helpers/test-db';
import { freePort, obliterateQueue } from '../helpers/test-engine';

const run = promisify(execFile);
const tsx = (script: string, args: string[], env: NodeJS.ProcessEnv = {}) =>
  run(process.execPath, ['--import', 'tsx', script, ...args], {
    env: { ...process.env, ...env },
    timeout: 120_000,
  });

const dir = mkdtempSync(path.join(tmpdir(), 'newcomer-'));
const prefix = uniqueName('newcomer');
let engine: ChildProcess | undefined;

afterAll(async () => {
  engine?.kill('SIGKILL');
  await obliterateQueue(prefix);
  rmSync(dir, { recursive: true, force: true });
});

describe('a new user following the README', () => {
  it('gets one line naming REDIS_URL and the fix when Redis is not there', async () => {
    const failed = await tsx('engine/src/cli/start.ts', [], {
      REDIS_URL: 'redis://127.0.0.1:1',
      DATA_DIR: dir,
    }).catch((err: unknown) => err as { code: number; stderr: string });
    expect('code' in failed && failed.code).toBe(1);
    const lines = (failed as { stderr: string }).stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/REDIS_URL=redis:\/\/127\.0\.0\.1:1.*docker compose up -d redis/);
  });

  it('starts the engine, sends feeds, and sees every message in /api/messages', async () => {
    await tsx('engine/src/cli/client.ts', ['create', '--dir', dir]);
    const [httpPort, mllpPort] = [await freePort(), await freePort()];
    const url = `http://127.0.0.1:${httpPort}`;
    engine = spawn(process.execPath, ['--import', 'tsx', 'engine/src/cli/start.ts'], {
      env: {
        ...process.env,
        DATA_DIR: path.join(dir, 'store'),
        DATABASE_URL: '',
        HTTP_PORT: String(httpPort),
        MLLP_PORT: String(mllpPort),
        PUBLIC_URL: url,
        QUEUE_PREFIX: prefix,
        SMART_CLIENTS_FILE: path.join(dir, 'smart-clients.json'),
        LOG_LEVEL: 'error',
      },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    await new Promise<void>((resolve, reject) => {
      engine?.stdout?.on('data', (d: Buffer) => {
        if (d.toString().includes('engine ready')) resolve();
      });
      engine?.once('exit', (code) => reject(new Error(`engine exited with ${code}`)));
    });

    const sim = await tsx('engine/src/cli/simulate.ts', [
      '--port',
      String(mllpPort),
      '--count',
      '40',
      '--rate',
      '0',
      '--json',
    ]);
    expect(JSON.parse(sim.stdout.slice(sim.stdout.indexOf('{')))).toMatchObject({
      acked: 40,
      ackCodes: { AA: 40 },
    });

    const { stdout: token } = await tsx('engine/src/cli/client.ts', ['token', '--dir', dir, '--url', url]);
    const res = await fetch(`${url}/api/messages?_count=100`, {
      headers: { authorization: `Bearer ${token.trim()}` },
    });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { messages: { status: string }[] };
    expect(body.messages).toHaveLength(40);

    const exited = new Promise<number | null>((resolve) => engine?.once('exit', resolve));
    engine.kill('SIGTERM');
    expect(await exited).toBe(0);
    engine = undefined;
  }, 180_000);
});
