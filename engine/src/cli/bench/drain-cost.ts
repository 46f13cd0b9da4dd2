/**
 * What one admission costs the machine, end to end: A01s are queued with processing paused, then
 * released at once, and the phase measures how fast the worker drains them into delivered
 * notices and how much CPU that took in the worker, PostgreSQL and Redis, with the WAL it wrote.
 * A latency target at a given rate is met only when this capacity is above the rate, and the
 * split says where a cheaper admission has to come from. Ingest is over before the drain starts,
 * so none of this is the ACK path's.
 */
import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { RunningEngine } from '../../engine';
import { isLocalServer } from '../../store/db';
import { awaitVisits, type BenchNoticeReceiver } from './bench-notice-receiver';
import { sendPacedA01s } from './paced-a01-sender';
import { commandCpuMs, procAvailable, processCpuMs } from './process-cpu';
import { unfinishedJobs } from './stage-backlog-sampler';

export interface DrainCostOptions {
  readonly engine: RunningEngine;
  readonly port: number;
  readonly receiver: BenchNoticeReceiver;
  /** The worker child, whose CPU is the processing's own. */
  readonly workerPid: number | undefined;
  readonly count: number;
  /** @defaultValue 600000 */
  readonly maxDrainMs?: number;
  /** How long to wait for the queues to empty before the phase. @defaultValue 300000 */
  readonly maxSettleMs?: number;
}

/** Cumulative counters read before and after the drain. */
export interface CostCounters {
  /** ms of CPU; undefined where it cannot be read (no /proc, or the server on another host). */
  readonly workerMs?: number;
  readonly postgresMs?: number;
  readonly redisMs?: number;
  /** pg_stat_wal (PostgreSQL 14+); undefined on PGlite or an older server. */
  readonly wal?: { readonly records: number; readonly bytes: number; readonly syncs: number };
}

export interface DrainCost {
  readonly count: number;
  /** Notices that arrived during the drain (should equal count). */
  readonly delivered: number;
  readonly seconds: number;
  /** Admissions taken from queue to delivered notice, a second. */
  readonly perSec: number;
  /** Per admission. */
  readonly workerMs?: number;
  readonly postgresMs?: number;
  readonly redisMs?: number;
  readonly walRecords?: number;
  readonly walBytes?: number;
  readonly walSyncs?: number;
}

/** The per-admission figures between two readings. */
export function costPerAdmission(
  before: CostCounters,
  after: CostCounters,
  o: { readonly count: number; readonly delivered: number; readonly seconds: number },
): DrainCost {
  const per = (a: number | undefined, b: number | undefined): number | undefined =>
    a === undefined || b === undefined || o.count === 0 ? undefined : (b - a) / o.count;
  const figures: Record<string, number | undefined> = {
    workerMs: per(before.workerMs, after.workerMs),
    postgresMs: per(before.postgresMs, after.postgresMs),
    redisMs: per(before.redisMs, after.redisMs),
    walRecords: per(before.wal?.records, after.wal?.records),
    walBytes: per(before.wal?.bytes, after.wal?.bytes),
    walSyncs: per(before.wal?.syncs, after.wal?.syncs),
  };
  return {
    count: o.count,
    delivered: o.delivered,
    seconds: o.seconds,
    perSec: o.seconds > 0 ? o.delivered / o.seconds : 0,
    ...Object.fromEntries(Object.entries(figures).filter(([, v]) => v !== undefined)),
  };
}

async function readWal(engine: RunningEngine): Promise<CostCounters['wal']> {
  if (engine.db.kind !== 'postgres') return undefined;
  try {
    const [row] = await engine.db.query<{ records: string; bytes: string; syncs: string }>(
      'SELECT wal_records::text AS records, wal_bytes::text AS bytes, wal_sync::text AS syncs FROM pg_stat_wal',
    );
    return row === undefined
      ? undefined
      : { records: Number(row.records), bytes: Number(row.bytes), syncs: Number(row.syncs) };
  } catch {
    return undefined;
  }
}

async function readCounters(o: DrainCostOptions, local: boolean): Promise<CostCounters> {
  const wal = await readWal(o.engine);
  const cpu = procAvailable();
  return {
    ...(cpu && o.workerPid !== undefined ? { workerMs: processCpuMs(o.workerPid) } : {}),
    ...(cpu && local ? { postgresMs: commandCpuMs('postgres'), redisMs: commandCpuMs('redis-server') } : {}),
    ...(wal !== undefined ? { wal } : {}),
  };
}

/** Jobs not yet finished in the process, notify and deliver queues. */
async function pendingJobs(engine: RunningEngine): Promise<number> {
  const counts = await Promise.all(
    [engine.queue, engine.notifyQueue, engine.deliverQueue].map(unfinishedJobs),
  );
  return counts.reduce((a, b) => a + b, 0);
}

/**
 * Runs the phase once the engine's queues are empty (work left from an earlier phase would be
 * counted as this one's); leaves processing resumed. Only the notices of this phase's admissions
 * count as drained.
 */
export async function measureDrainCost(o: DrainCostOptions): Promise<DrainCost> {
  const settleBy = performance.now() + (o.maxSettleMs ?? 300_000);
  while ((await pendingJobs(o.engine)) > 0) {
    if (performance.now() > settleBy) throw new Error('drain phase: the queues did not empty beforehand');
    await sleep(250);
  }
  const config = o.engine.config;
  // Server CPU is read from this host's /proc, so only when both servers are on it.
  const local =
    config.database.url !== undefined &&
    isLocalServer(config.database.url) &&
    isLocalServer(config.redis.url);
  await o.engine.queue.pause();
  let visits: Set<string>;
  try {
    const sent = await sendPacedA01s({
      port: o.port,
      connections: 4,
      ratePerSec: 400,
      seconds: o.count / 400,
      maxSeconds: o.count / 100 + 30,
      runId: `d${randomBytes(3).toString('hex')}`,
    });
    const accepted = sent.admissions.filter((a) => a.code === 'AA').length;
    if (accepted !== o.count) throw new Error(`drain phase: ${accepted} of ${o.count} A01s were accepted`);
    visits = new Set(sent.admissions.map((a) => a.visit));
  } catch (err) {
    await o.engine.queue.resume();
    throw err;
  }
  // The archive and queue writes of the last ACKs settle before the first reading.
  await sleep(1000);
  const before = await readCounters(o, local);
  const started = performance.now();
  await o.engine.queue.resume();
  const delivered = await awaitVisits(o.receiver, visits, { maxMs: o.maxDrainMs ?? 600_000 });
  const seconds = (performance.now() - started) / 1000;
  const after = await readCounters(o, local);
  return costPerAdmission(before, after, { count: o.count, delivered, seconds });
}
