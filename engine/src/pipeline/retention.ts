/**
 * Retention: archived messages and the FHIR they alone produced are kept RETENTION_DAYS, then
 * purged (what goes and what stays: store/retention-purge.ts). A BullMQ job scheduler on the
 * maintenance queue runs it every RETENTION_INTERVAL_MS in the worker role; however many worker
 * processes run, each turn of the schedule is one job, done by one of them. The purge goes in
 * batches, each its own transaction, until a batch comes back short, and logs what it removed.
 */
import { Worker, type ConnectionOptions, type Job, type Queue } from 'bullmq';
import type { RetentionSettings } from '../config/schema';
import type { Logger } from '../observability/logger';
import type { Db } from '../store/db';
import { hasPatientParam } from '../store/fhir-compartment';
import { addCounts, NO_COUNTS, purgeBatch, type RetentionCounts } from '../store/retention-purge';
import { createMaintenanceQueue, MAINTENANCE_QUEUE, RETENTION_SCHEDULER } from '../queue/maintenance-queue';
import type { RegisteredWorker } from '../queue/queue-registry';

const DAY_MS = 24 * 3_600_000;

export interface RetentionDeps {
  readonly db: Db;
  readonly logger: Logger;
}

export interface RetentionRunOptions {
  readonly days: number;
  /** @defaultValue now */
  readonly now?: Date;
  /**
   * Messages per transaction. The embedded store has one connection, which ingest waits for
   * while a batch runs, so its batches are smaller.
   * @defaultValue 5000 on PostgreSQL, 1000 on the embedded store
   */
  readonly batchSize?: number;
}

export interface RetentionResult extends RetentionCounts {
  /** Messages received before this were eligible. */
  readonly cutoff: string;
  readonly batches: number;
}

/**
 * A whole resource may go only when it is part of one patient's record: a type with a `patient`
 * search parameter, but never the Patient itself (identity links and reviews name it).
 */
export function isPurgeableType(type: string): boolean {
  return type !== 'Patient' && hasPatientParam(type);
}

/** One purge, pure of BullMQ: every batch until none is full; returns and logs the counts. */
export async function runRetentionPurge(
  deps: RetentionDeps,
  o: RetentionRunOptions,
): Promise<RetentionResult> {
  const now = o.now ?? new Date();
  const cutoff = new Date(now.getTime() - o.days * DAY_MS);
  const batchSize = o.batchSize ?? (deps.db.kind === 'pglite' ? 1_000 : 5_000);
  let total = NO_COUNTS;
  let batches = 0;
  for (;;) {
    const done = await deps.db.transaction((tx) =>
      purgeBatch(tx, { cutoff, batchSize, deletableType: isPurgeableType }),
    );
    total = addCounts(total, done);
    if (done.messages > 0) batches++;
    if (done.messages < batchSize) break;
  }
  const result: RetentionResult = { ...total, cutoff: cutoff.toISOString(), batches };
  deps.logger.info(result, 'retention purge');
  return result;
}

/**
 * Registers (or updates) the purge's job scheduler. The first run is one interval after the
 * scheduler first exists, not at start-up; a restart keeps the schedule it had.
 */
export async function scheduleRetention(queue: Queue, settings: RetentionSettings): Promise<void> {
  await queue.upsertJobScheduler(
    RETENTION_SCHEDULER,
    { every: settings.intervalMs, startDate: new Date(Date.now() + settings.intervalMs) },
    { name: RETENTION_SCHEDULER, data: {} },
  );
}

export interface RetentionWorkerOptions {
  readonly connection: ConnectionOptions;
  readonly prefix: string;
  readonly settings: RetentionSettings;
}

/** The maintenance queue's worker (and its queue handle): runs each scheduled purge. */
export function createRetentionWorker(deps: RetentionDeps, o: RetentionWorkerOptions): RegisteredWorker {
  const queue = createMaintenanceQueue(o.connection, o.prefix);
  const worker = new Worker<unknown, RetentionResult>(
    MAINTENANCE_QUEUE,
    async (job: Job) => {
      if (job.name !== RETENTION_SCHEDULER) throw new Error(`unknown maintenance job ${job.name}`);
      return runRetentionPurge(deps, { days: o.settings.days });
    },
    // One purge at a time per process; batches skip rows another purge holds.
    { connection: o.connection, prefix: o.prefix, concurrency: 1 },
  );
  return { name: MAINTENANCE_QUEUE, queue, worker };
}
