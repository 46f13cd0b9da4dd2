/**
 * The floor server measured again while an engine's worker processes a backlog beside it, on the
 * same CPUs: the share of its throughput that any ingest, however lean, keeps here while
 * processing runs. The engine/floor target compares the engine with processing running against
 * the floor without; this control says how much of the gap is the machine's. On small virtual
 * machines even idle-priority work beside a latency-bound sender-to-ACK chain slows the chain
 * (every hop is a wake-up on a CPU that is busy), which no scheduling priority removes.
 */
import { startBenchTarget, type BenchEnv } from './bench-target';
import { runLoadPhase, type LoadResult } from './load-runner';

export interface FloorBesideProcessingSizes {
  readonly warmup: number;
  readonly one: number;
  readonly eight: number;
  /** Messages queued for the worker before the floor's phases start; must outlast them. */
  readonly backlog: number;
}

export interface FloorBesideProcessing {
  readonly one: LoadResult;
  readonly eight: LoadResult;
  /** Jobs the worker had not finished when the floor's phases ended (0: it ran dry meanwhile). */
  readonly backlogLeft: number;
}

/**
 * Queues a backlog on an engine with its processing paused, starts the floor, releases the
 * processing and measures the floor's 1- and 8-connection phases while it runs.
 */
export async function measureFloorBesideProcessing(
  env: BenchEnv,
  sizes: FloorBesideProcessingSizes,
  log: (line: string) => void,
): Promise<FloorBesideProcessing> {
  const processing = await startBenchTarget('engine', env);
  try {
    const engine = processing.engine;
    if (engine === undefined) throw new Error('the processing target has no in-process engine');
    await engine.queue.pause();
    log(`  floor beside processing: queueing ${sizes.backlog} messages for an engine's worker`);
    const queued = await runLoadPhase({
      port: processing.port,
      connections: 8,
      rate: 0,
      count: sizes.backlog,
      seed: 'bench-beside-backlog',
    });
    if ((queued.ackCodes['AA'] ?? 0) !== sizes.backlog) {
      throw new Error(
        `floor beside processing: ${queued.ackCodes['AA'] ?? 0} of ${sizes.backlog} backlog messages accepted`,
      );
    }
    const floor = await startBenchTarget('floor', env);
    try {
      const phase = (connections: number, count: number, seed: string): Promise<LoadResult> =>
        runLoadPhase({ port: floor.port, connections, rate: 0, count, seed });
      await phase(8, sizes.warmup, 'bench-beside-warmup');
      await engine.queue.resume();
      log(`  floor beside processing: 1 connection, ${sizes.one} messages`);
      const one = await phase(1, sizes.one, 'bench-beside-one');
      log(`  floor beside processing: 8 connections, ${sizes.eight} messages`);
      const eight = await phase(8, sizes.eight, 'bench-beside-eight');
      return { one, eight, backlogLeft: await processing.pendingJobs() };
    } finally {
      await floor.close();
    }
  } finally {
    await processing.close();
  }
}
