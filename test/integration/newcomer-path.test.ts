/**
 * The README's "Quick start" and "Send a first message", run as a newcomer runs them: the same
 * npm commands, in a working directory of their own (a copy of the repository's files, so
 * `./data` is theirs), with nothing set but what the README names. Then SIGTERM to the npm
 * process, and nothing of the engine may be left: no process, no listening port.
 *
 * The only settings beyond the README's commands are documented ones under "Configuration":
 * MLLP_PORT and HTTP_PORT (2575 and 8080 may be taken on this machine) and QUEUE_PREFIX (Redis is
 * shared: with the default `care`, any other engine on this machine would take these jobs).
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { cpSync, mkdtempSync, readdirSync, realpathSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import {
  collectStdout,
  exitWithin,
  isRunning,
  killAll,
  portRefuses,
  processesIn,
  waitForOutput,
} from '../helpers/process-tree';
import { uniqueName } from '../helpers/test-db';
import { freePort, obliterateQueue, waitFor } from '../helpers/test-engine';

const run = promisify(execFile);
const repo = path.resolve(import.meta.dirname, '../..');
const dir = realpathSync(mkdtempSync(path.join(tmpdir(), 'newcomer-')));
const prefix = uniqueName('newcomer');
const started = new Set<number>();

// The repository as a fresh clone has it after `npm ci`: the files, and the installed modules.
for (const entry of ['package.json', 'tsconfig.json', 'engine', 'mappings']) {
  cpSync(path.join(repo, entry), path.join(dir, entry), { recursive: true });
}
// The app's sources as cloned: no build, so `npm start` builds it as it would on a fresh clone.
cpSync(path.join(repo, 'smart-app'), path.join(dir, 'smart-app'), {
  recursive: true,
  filter: (src) => !/[\\/](dist|node_modules)$/.test(src),
});
symlinkSync(path.join(repo, 'node_modules'), path.join(dir, 'node_modules'));

/** A newcomer's shell: no engine settings, no npm or test-runner variables inherited. */
function shellEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const name of ['PATH', 'HOME', 'USER', 'LANG', 'TMPDIR', 'TERM', 'SHELL']) {
    if (process.env[name] !== undefined) env[name] = process.env[name];
  }
  // The README's Redis is the default REDIS_URL; CI may point the tests elsewhere.
  if (process.env['TEST_REDIS_URL'] !== undefined) env['REDIS_URL'] = process.env['TEST_REDIS_URL'];
  return { ...env, QUEUE_PREFIX: prefix, ...extra };
}

const npm = (args: string[], env: Record<string, string> = {}) =>
  run('npm', args, { cwd: dir, env: shellEnv(env), timeout: 120_000 });

function npmStart(env: Record<string, string>): ChildProcess {
  const child = spawn('npm', ['start'], { cwd: dir, env: shellEnv(env), stdio: ['ignore', 'pipe', 'pipe'] });
  if (child.pid !== undefined) started.add(child.pid);
  return child;
}

afterAll(async () => {
  // Whatever the test could not stop: the tree it started, by pid.
  killAll([...started, ...processesIn(dir).map((p) => p.pid)]);
  await obliterateQueue(prefix);
  rmSync(dir, { recursive: true, force: true });
});

describe('a new user following the README', () => {
  it('gets one line naming REDIS_URL and the fix when Redis is not there', async () => {
    const engine = npmStart({ REDIS_URL: 'redis://127.0.0.1:1' });
    let stderr = '';
    engine.stderr?.on('data', (d: Buffer) => (stderr += d.toString('utf8')));
    const exit = await exitWithin(engine, 60_000, 'npm start');
    expect(exit.code).toBe(1);
    const lines = stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/REDIS_URL=redis:\/\/127\.0\.0\.1:1.*docker compose up -d redis/);
  });

  it('starts the engine, sends feeds, reads them back with a token, and stops on SIGTERM to npm', async () => {
    // npm run client -- create
    await npm(['run', 'client', '--', 'create']);
    expect(readdirSync(path.join(dir, 'data')).sort()).toEqual([
      'smart-client-key.json',
      'smart-clients.json',
    ]);

    // SMART_CLIENTS_FILE=data/smart-clients.json npm start &
    const [mllpPort, httpPort] = [await freePort(), await freePort()];
    const ports = { MLLP_PORT: String(mllpPort), HTTP_PORT: String(httpPort) };
    const engine = npmStart({ SMART_CLIENTS_FILE: 'data/smart-clients.json', ...ports });
    let stderr = '';
    engine.stderr?.on('data', (d: Buffer) => (stderr += d.toString('utf8')));
    const stdout = collectStdout(engine);
    await waitForOutput(engine, stdout, `HTTP on http://localhost:${httpPort}`, 90_000);
    expect(stdout.text()).toContain('engine ready: role all, store pglite');
    expect(stdout.text()).toContain(`MLLP on 0.0.0.0:${mllpPort}`);
    expect(stdout.text()).not.toContain('SMART_CLIENTS_FILE is unset');
    // The embedded store is under ./data, next to the client files.
    expect(readdirSync(path.join(dir, 'data')).length).toBeGreaterThan(2);

    // npm run simulate -- --port 2575 --count 50 --patients 20 --facilities 3 (exits 0: every ACK AA)
    const sim = await npm([
      'run',
      'simulate',
      '--',
      '--port',
      String(mllpPort),
      '--count',
      '50',
      '--patients',
      '20',
      '--facilities',
      '3',
    ]);
    expect(sim.stdout).toMatch(/\bAA\b/);

    // TOKEN=$(npm run -s client -- token), with the environment of `npm start`
    const { stdout: tokenOut } = await npm(['run', '-s', 'client', '--', 'token'], ports);
    const token = tokenOut.trim();
    expect(token).toMatch(/^[\w-]+\.[\w-]+\.[\w-]+$/);

    // curl -H "Authorization: Bearer $TOKEN" 'http://localhost:8080/api/messages?_count=100'
    const get = (p: string) =>
      fetch(`http://localhost:${httpPort}${p}`, { headers: { Authorization: `Bearer ${token}` } });
    let messages: { status: string }[] = [];
    await waitFor(
      async () => {
        const res = await get('/api/messages?_count=100');
        expect(res.status).toBe(200);
        messages = ((await res.json()) as { messages: { status: string }[] }).messages;
        return messages.length === 50 && messages.every((m) => m.status === 'processed');
      },
      60_000,
      '50 processed messages',
    ).catch((err: unknown) => {
      throw new Error(`${String(err)}: ${JSON.stringify(messages.map((m) => m.status))}`);
    });

    // curl -H "Authorization: Bearer $TOKEN" 'http://localhost:8080/fhir/Patient?_count=5'
    const res = await get('/fhir/Patient?_count=5');
    expect(res.status).toBe(200);
    const bundle = (await res.json()) as {
      resourceType: string;
      entry?: { resource: { resourceType: string } }[];
    };
    expect(bundle.resourceType).toBe('Bundle');
    expect(bundle.entry?.length).toBeGreaterThan(0);
    expect(bundle.entry?.length).toBeLessThanOrEqual(5);
    expect(bundle.entry?.every((e) => e.resource.resourceType === 'Patient')).toBe(true);

    // The tree as it runs: npm, the shell npm runs the script in, node, tsx's esbuild service.
    const tree = processesIn(dir);
    expect(
      tree.some((p) => p.cmdline.includes('engine/src/cli/start.ts') && p.cmdline.startsWith('node')),
    ).toBe(true);

    // SIGTERM to the npm process, as a supervisor (or `kill <npm pid>`) sends it.
    engine.kill('SIGTERM');
    const exit = await exitWithin(engine, 30_000, 'npm start');
    // npm exits 0 once node, its direct child (the start script execs node), drained and exited 0.
    expect(exit, `npm exit ${JSON.stringify(exit)}`).toMatchObject({ code: 0 });
    await waitFor(
      () => Promise.resolve(tree.every((p) => !isRunning(p.pid))),
      30_000,
      'the engine tree to exit',
    ).catch((err: unknown) => {
      throw new Error(`${String(err)}: ${JSON.stringify(processesIn(dir))}`);
    });
    expect(processesIn(dir)).toEqual([]);
    expect(await portRefuses(mllpPort)).toBe(true);
    expect(await portRefuses(httpPort)).toBe(true);
    expect(stdout.text()).toMatch(/"msg":"draining: no new messages/);
    expect(stderr).toBe('');
  }, 240_000);
});
