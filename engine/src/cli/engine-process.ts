/**
 * Starts the engine entry point (start.ts) as a child process in one role and resolves once it
 * reports ready, with what it printed. The worker process of `npm start` is one; the benchmark
 * starts an ingest-only engine the same way, so the memory it reads is the engine's alone.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { setPriority } from 'node:os';
import { fileURLToPath } from 'node:url';
import type { EngineRole } from '../config/schema';

const START = fileURLToPath(new URL('./start.ts', import.meta.url));

export interface EngineProcessOptions {
  /** The settings; ENGINE_ROLE is set from `role`. */
  readonly env: Record<string, string | undefined>;
  readonly role: EngineRole;
  /** V8 and node flags before `--import tsx`. @defaultValue none */
  readonly nodeFlags?: readonly string[];
  /** Scheduling priority (niceness) of the child; undefined leaves the parent's. */
  readonly niceness?: number;
  /** Called when the child exits without being asked to. */
  readonly onUnexpectedExit?: (code: number | null, signal: NodeJS.Signals | null) => void;
}

export interface EngineProcess {
  readonly pid: number;
  /** What the child printed up to and including its `engine ready` lines. */
  readonly readyText: string;
  /** SIGTERM, then waits for the child's graceful drain (SIGKILL after `graceMs`). */
  stop(graceMs?: number): Promise<void>;
}

/** Forks start.ts in `o.role` and resolves once it prints `engine ready`. */
export async function startEngineProcess(o: EngineProcessOptions): Promise<EngineProcess> {
  const child: ChildProcess = fork(START, [], {
    env: { ...o.env, ENGINE_ROLE: o.role },
    execArgv: [...(o.nodeFlags ?? []), '--import', 'tsx'],
    stdio: ['ignore', 'pipe', 'inherit', 'ipc'],
  });
  let stopping = false;
  const pid = child.pid;
  if (pid === undefined) throw new Error(`${o.role} process did not start`);
  if (o.niceness !== undefined) {
    try {
      setPriority(pid, o.niceness);
    } catch {
      // Not permitted on some hosts: the split into processes still keeps the roles apart.
    }
  }
  const readyText = await new Promise<string>((resolve, reject) => {
    let out = '';
    const onData = (chunk: Buffer): void => {
      out += chunk.toString('utf8');
      // The ready lines are written in one call, so the whole block is here once its head is.
      if (out.includes('engine ready')) {
        child.stdout?.off('data', onData);
        child.stdout?.resume();
        resolve(out);
      }
    };
    child.stdout?.on('data', onData);
    child.once('exit', (code) =>
      reject(new Error(`${o.role} process exited with code ${String(code)} before ready`)),
    );
  });
  child.on('exit', (code, signal) => {
    if (!stopping) o.onUnexpectedExit?.(code, signal);
  });
  return {
    pid,
    readyText,
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
