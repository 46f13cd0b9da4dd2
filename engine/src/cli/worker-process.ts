/**
 * Processing in a child process the OS schedules below the listener. Mapping and storing are
 * CPU-bound; on a small machine they would otherwise take the cores the ACK path needs during a
 * burst. Niceness does this by structure: under contention the listener wins, and once the burst
 * ends the workers run at full speed. No job sleeps and nothing measures ingest rates.
 */
import { WORKER_NICENESS } from '../engine';
import { startEngineProcess, type EngineProcess } from './engine-process';

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

export type WorkerProcess = Omit<EngineProcess, 'readyText'>;

/** Forks the worker role and resolves once it reports ready. */
export async function startWorkerProcess(o: WorkerProcessOptions): Promise<WorkerProcess> {
  const child = await startEngineProcess({
    env: o.env,
    role: 'worker',
    nodeFlags: WORKER_NODE_FLAGS,
    niceness: o.niceness ?? WORKER_NICENESS,
    ...(o.onUnexpectedExit !== undefined ? { onUnexpectedExit: o.onUnexpectedExit } : {}),
  });
  return { pid: child.pid, stop: (graceMs) => child.stop(graceMs) };
}
