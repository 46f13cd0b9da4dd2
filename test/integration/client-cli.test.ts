/**
 * `npm run client -- token` run as a person runs it: it finds the engine the way the engine
 * advertises itself (PUBLIC_URL, else localhost on HTTP_PORT), and says which URL failed and why.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, startTestEngine, type TestEngine } from '../helpers/test-engine';

const run = promisify(execFile);
const dir = mkdtempSync(path.join(tmpdir(), 'client-cli-'));

interface CliResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs the client CLI with only the given engine settings, none inherited from this shell. */
async function client(args: string[], env: Record<string, string> = {}): Promise<CliResult> {
  const inherited = new Set(['PUBLIC_URL', 'HTTP_PORT', 'HTTP_TLS_CERT', 'HTTP_TLS_KEY']);
  const base = Object.fromEntries(Object.entries(process.env).filter(([name]) => !inherited.has(name)));
  try {
    const { stdout, stderr } = await run(
      process.execPath,
      ['--import', 'tsx', 'engine/src/cli/client.ts', ...args],
      { env: { ...base, ...env }, timeout: 60_000 },
    );
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code?: unknown; stdout?: string; stderr?: string };
    if (typeof e.code !== 'number') throw err;
    return { code: e.code, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}

let engine: TestEngine;
let httpPort: number;
/** A port nothing listens on. */
let deadPort: number;

beforeAll(async () => {
  const created = await client(['create', '--dir', dir]);
  expect(created.code).toBe(0);
  [httpPort, deadPort] = [await freePort(), await freePort()];
  engine = await startTestEngine({
    env: {
      SMART_CLIENTS_FILE: path.join(dir, 'smart-clients.json'),
      HTTP_PORT: String(httpPort),
      // What the engine advertises for this HTTP_PORT when PUBLIC_URL is unset: the token audience.
      PUBLIC_URL: `http://localhost:${httpPort}`,
    },
  });
});
afterAll(async () => {
  await engine.destroy();
  rmSync(dir, { recursive: true, force: true });
});

const expectWorkingToken = async (r: CliResult): Promise<void> => {
  expect(r).toMatchObject({ code: 0, stderr: '' });
  const res = await fetch(`${engine.config.http.publicUrl}/api/messages`, {
    headers: { authorization: `Bearer ${r.stdout.trim()}` },
  });
  expect(res.status).toBe(200);
};

describe('npm run client -- token', () => {
  it('gets a token from the engine on HTTP_PORT with no --url and no PUBLIC_URL', async () => {
    expect(engine.config.http.publicUrl).toBe(`http://localhost:${httpPort}`);
    await expectWorkingToken(await client(['token', '--dir', dir], { HTTP_PORT: String(httpPort) }));
  });

  it('prefers PUBLIC_URL over HTTP_PORT, and --url over both', async () => {
    const url = `http://localhost:${httpPort}`;
    await expectWorkingToken(
      await client(['token', '--dir', dir], { HTTP_PORT: String(deadPort), PUBLIC_URL: url }),
    );
    await expectWorkingToken(
      await client(['token', '--dir', dir, '--url', url], {
        HTTP_PORT: String(deadPort),
        PUBLIC_URL: `http://localhost:${deadPort}`,
      }),
    );
  });

  it('names the URL and the cause in one line, and exits non-zero, when nothing listens', async () => {
    const r = await client(['token', '--dir', dir], { HTTP_PORT: String(deadPort) });
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr.trim().split('\n')).toEqual([
      `error: cannot reach the engine at http://localhost:${deadPort}/auth/token (ECONNREFUSED); ` +
        'is it running? set PUBLIC_URL or --url',
    ]);
  });

  it('says where it looked for the key when `create` was never run', async () => {
    const empty = path.join(dir, 'none');
    const r = await client(['token', '--dir', empty], { HTTP_PORT: String(httpPort) });
    expect(r.code).toBe(1);
    expect(r.stderr.trim().split('\n')).toEqual([
      `error: no client key at ${path.join(empty, 'smart-client-key.json')}; ` +
        'run `npm run client -- create` first or pass --dir',
    ]);
  });
});
