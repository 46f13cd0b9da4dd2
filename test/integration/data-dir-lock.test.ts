/**
 * One engine per embedded data directory: a second open (in-process, or a second `npm start`)
 * is refused with one line naming the directory, the lock goes with a clean stop, and a lock left
 * by a killed engine gives way once stale instead of blocking start-up for ever.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { openDb } from '../../engine/src/store/db';
import { LOCK_STALE_MS } from '../../engine/src/store/data-dir-lock';
import { TEST_REDIS_URL, uniqueName } from '../helpers/test-db';
import { freePort, obliterateQueue } from '../helpers/test-engine';

const root = mkdtempSync(path.join(tmpdir(), 'data-dir-lock-'));
const prefixes: string[] = [];
const children: EngineProcess[] = [];

afterAll(async () => {
  for (const child of children) await child.kill('SIGKILL');
  for (const prefix of prefixes) await obliterateQueue(prefix);
  rmSync(root, { recursive: true, force: true });
});

const inUse = (dir: string, pid: number): string =>
  `data directory ${dir} is in use by another engine (pid ${pid}); stop it or set DATA_DIR`;

interface EngineProcess {
  readonly child: ChildProcess;
  /** Resolves on `engine ready`, rejects if the process exits first. */
  readonly ready: Promise<void>;
  readonly exited: Promise<number | null>;
  stderr(): string;
  /** Sends `signal` (if still running) and waits for the exit. */
  kill(signal: NodeJS.Signals): Promise<number | null>;
}

/** `npm start` as a user runs it, on the embedded store in `dataDir`. */
async function startEngineProcess(dataDir: string, prefix: string): Promise<EngineProcess> {
  const [httpPort, mllpPort] = [await freePort(), await freePort()];
  const child = spawn(process.execPath, ['--import', 'tsx', 'engine/src/cli/start.ts'], {
    env: {
      ...process.env,
      DATA_DIR: dataDir,
      DATABASE_URL: '',
      MLLP_PORT: String(mllpPort),
      MLLP_HOST: '127.0.0.1',
      HTTP_PORT: String(httpPort),
      HTTP_HOST: '127.0.0.1',
      PUBLIC_URL: `http://127.0.0.1:${httpPort}`,
      REDIS_URL: TEST_REDIS_URL,
      QUEUE_PREFIX: prefix,
      MAPPINGS_DIR: './mappings',
      LOG_LEVEL: 'silent',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
  const ready = new Promise<void>((resolve, reject) => {
    child.stdout?.on('data', (d: Buffer) => {
      stdout += d.toString();
      if (stdout.includes('engine ready')) resolve();
    });
    void exited.then((code) => reject(new Error(`engine exited with ${code}: ${stderr.trim()}`)));
  });
  ready.catch(() => undefined);
  const proc: EngineProcess = {
    child,
    ready,
    exited,
    stderr: () => stderr,
    async kill(signal) {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    },
  };
  children.push(proc);
  return proc;
}

describe('the embedded data directory lock', () => {
  it('refuses a second open of the same directory until the first is closed', async () => {
    const dir = path.join(root, 'in-process');
    const first = await openDb({ schema: 'public', dataDir: dir });
    const started = Date.now();
    const second = openDb({ schema: 'public', dataDir: dir });
    await expect(second).rejects.toThrow(inUse(dir, process.pid));
    expect(Date.now() - started).toBeLessThan(2_000);
    await second.catch((err: unknown) => {
      expect((err as Error).message).not.toContain('\n');
      expect((err as { code?: string }).code).toBe('data-dir-in-use');
    });
    await first.close();
    expect(existsSync(path.join(dir, 'engine.lock'))).toBe(false);

    const again = await openDb({ schema: 'public', dataDir: dir });
    expect(await again.query('SELECT 1 AS one')).toEqual([{ one: 1 }]);
    await again.close();
  });

  it('does not lock memory:// stores', async () => {
    const [a, b] = await Promise.all([
      openDb({ schema: 'public', dataDir: 'memory://' }),
      openDb({ schema: 'public', dataDir: 'memory://' }),
    ]);
    await Promise.all([a.close(), b.close()]);
  });

  it('stops using the store, with one error line, when the lock is taken away', async () => {
    const dir = path.join(root, 'lost');
    const db = await openDb({ schema: 'public', dataDir: dir });
    const lines: string[] = [];
    const write = vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
      lines.push(String(chunk));
      return true;
    });
    try {
      rmSync(path.join(dir, 'engine.lock'), { recursive: true });
      const deadline = Date.now() + 10_000;
      let failure: unknown;
      while (failure === undefined && Date.now() < deadline) {
        failure = await db.query('SELECT 1').then(
          () => undefined,
          (err: unknown) => err,
        );
        await new Promise((r) => setTimeout(r, 100));
      }
      expect((failure as Error).message).toMatch(
        new RegExp(
          `^data directory ${escape(dir)} is no longer locked by this engine \\(.+\\); .*restart the engine$`,
        ),
      );
      expect(lines).toEqual([`error: ${(failure as Error).message}\n`]);
    } finally {
      write.mockRestore();
    }
    await db.close();
  });

  it('makes a second `npm start` on the same directory exit at once with one line', async () => {
    const dir = path.join(root, 'two-engines');
    const prefix = uniqueName('dirlock');
    prefixes.push(prefix);
    const first = await startEngineProcess(dir, prefix);
    await first.ready;

    const started = Date.now();
    const otherPrefix = uniqueName('dirlock');
    prefixes.push(otherPrefix);
    const second = await startEngineProcess(dir, otherPrefix);
    const stillRunning = new Promise((r) => setTimeout(r, 30_000, 'still running after 30 s').unref());
    expect(await Promise.race([second.exited, stillRunning])).toBe(1);
    const elapsed = Date.now() - started;
    expect(second.stderr().trim().split('\n')).toEqual([`error: ${inUse(dir, first.child.pid!)}`]);
    expect(elapsed).toBeLessThan(10_000);

    // The refused engine left the first one's lock alone.
    expect(existsSync(path.join(dir, 'engine.lock'))).toBe(true);
    expect(await first.kill('SIGTERM')).toBe(0);
    expect(existsSync(path.join(dir, 'engine.lock'))).toBe(false);
  }, 120_000);

  it('lets an engine start after one that was killed with SIGKILL, once its lock is stale', async () => {
    const dir = path.join(root, 'killed');
    const prefix = uniqueName('dirlock');
    prefixes.push(prefix);
    const killed = await startEngineProcess(dir, prefix);
    await killed.ready;
    await killed.kill('SIGKILL');
    expect(existsSync(path.join(dir, 'engine.lock'))).toBe(true);

    const started = Date.now();
    const next = await startEngineProcess(dir, prefix);
    await next.ready;
    const elapsed = Date.now() - started;
    expect(elapsed).toBeLessThan(LOCK_STALE_MS + 20_000);
    expect(await next.kill('SIGTERM')).toBe(0);
  }, 120_000);
});

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
