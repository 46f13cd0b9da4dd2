/**
 * Processing in a child process the OS schedules below the listener. Mapping and storing are
 * CPU-bound; on a small machine they would otherwise take the cores the ACK path needs during a
 * burst. Niceness does this by structure: under contention the listener wins, and once the burst
 * ends the workers run at full speed. No job sleeps and nothing measures ingest rates.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { setPriority } from 'node:os';
import { fileURLToPath } from 'node:url';
import { WORKER_NICENESS } from '../engine';

/**
 * V8 flags of the worker process. Processing allocates a few hundred kilobytes per message, all
 * short-lived; with V8's default 16 MB semi-space a scavenge came every ~75 linked records and
 * each paused the message it fell on for 4-10 ms, which was the whole tail of per-message
 * linking (`npm run bench -- --only identity`: p50 1.00 → ~0.8 ms, p99 ~5 → ~3.5 ms). A scavenge
 * copies only what is still live, so a larger young generation makes pauses rarer, not longer;
 * it costs up to 32 MB more resident memory in the worker. Split deployments pass the same
 * through NODE_OPTIONS (docker-compose.yml's engine-worker).
 */
export const WORKER_NODE_FLAGS: readonly string[] = ['--max-semi-space-size=32'];

/** The engine entry point, started with ENGINE_ROLE=worker. */
const START = fileURLToPath(new URL('./start.ts', import.meta.url));

export interface WorkerProcessOptions {
  /** The parent's settings; the child runs them with ENGINE_ROLE=worker. */
  readonly env: Record<string, string | undefined>;
  /**
   * Scheduling priority (niceness) of the child: higher runs later under contention.
   * @defaultValue WORKER_NICENESS
   */
  readonly niceness?: number;
  /** Called when the child exits without being asked to (the parent should stop too). */
  readonly onUnexpectedExit?: (code: number | null, signal: NodeJS.Signals | null) => void;
}

export interface WorkerProcess {
  readonly pid: number;
  /** SIGTERM, then waits for the child's graceful drain (SIGKILL after `graceMs`). */
  stop(graceMs?: number): Promise<void>;
}

/** Forks the worker role and resolves once it reports ready. */
export async function startWorkerProcess(o: WorkerProcessOptions): Promise<WorkerProcess> {
  const child: ChildProcess = fork(START, [], {
    env: { ...o.env, ENGINE_ROLE: 'worker' },
    execArgv: [...WORKER_NODE_FLAGS, '--import', 'tsx'],
    stdio: ['ignore', 'pipe', 'inherit', 'ipc'],
  });
  let stopping = false;
  const pid = child.pid;
  if (pid === undefined) throw new Error('worker process did not start');
  try {
    setPriority(pid, o.niceness ?? WORKER_NICENESS);
  } catch {
    // Not permitted on some hosts: the split into processes still keeps mapping off the listener.
  }
  await new Promise<void>((resolve, reject) => {
    let out = '';
    const onData = (chunk: Buffer): void => {
      out += chunk.toString('utf8');
      if (out.includes('engine ready')) {
        child.stdout?.off('data', onData);
        child.stdout?.resume();
        resolve();
      }
    };
    child.stdout?.on('data', onData);
    child.once('exit', (code) =>
      reject(new Error(`worker process exited with code ${String(code)} before ready`)),
    );
  });
  child.on('exit', (code, signal) => {
    if (!stopping) o.onUnexpectedExit?.(code, signal);
  });
  return {
    pid,
    async stop(graceMs = 30_000) {
      if (child.exitCode !== null || child.signalCode !== null) return;
      stopping = true;
      const exited = once(child, 'exit');
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      await exited;
      clearTimeout(timer);
    },
  };
}
