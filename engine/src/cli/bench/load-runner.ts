/**
 * Runs one load phase of the benchmark through the simulator CLI in a child process, so the
 * sender's CPU and memory are not counted in the server's RSS, and the numbers are those a user
 * of `npm run simulate` would see.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { SimulationResult } from '../simulator/run-simulation';

const REPO_ROOT = fileURLToPath(new URL('../../../../', import.meta.url));

export interface LoadPhase {
  readonly port: number;
  readonly connections: number;
  /** Messages per second in total; 0 = send, await ACK, send. */
  readonly rate: number;
  readonly count: number;
  /**
   * The phase is cut off after this long, whatever the count.
   * @defaultValue 60 s, or a second for every 50 messages if that is longer
   */
  readonly maxSeconds?: number;
  readonly seed: string;
}

export type LoadResult = SimulationResult & { readonly clean: boolean; readonly runId: string };

/**
 * Sends one phase and resolves with the simulator's JSON result.
 * @param phase - target port, connections, rate, count and time bound.
 */
export async function runLoadPhase(phase: LoadPhase): Promise<LoadResult> {
  const maxSeconds = phase.maxSeconds ?? Math.max(60, phase.count / 50);
  const args = [
    ...['--import', 'tsx', 'engine/src/cli/simulate.ts', '--json', '--host', '127.0.0.1'],
    ...[
      '--port',
      String(phase.port),
      '--connections',
      String(phase.connections),
      '--rate',
      String(phase.rate),
    ],
    ...['--count', String(phase.count), '--timeout', String(maxSeconds), '--report-every', '3600'],
    ...['--patients', String(Math.max(2000, phase.connections)), '--facilities', '3', '--seed', phase.seed],
  ];
  const child = spawn(process.execPath, args, { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
  child.stderr.on('data', (c: Buffer) => (stderr = (stderr + c.toString()).slice(-4000)));
  // The simulator stops itself at maxSeconds; this only catches a hung child.
  const killer = setTimeout(() => child.kill('SIGKILL'), (maxSeconds + 60) * 1000);
  const code = await new Promise<number | null>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (c: number | null) => resolve(c));
  });
  clearTimeout(killer);
  const line = stdout.trim().split('\n').pop() ?? '';
  if (!line.startsWith('{')) throw new Error(`simulator exited ${code} without a result:\n${stderr}`);
  return JSON.parse(line) as LoadResult;
}
