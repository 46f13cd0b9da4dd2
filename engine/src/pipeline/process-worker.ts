/**
 * The processing stage's BullMQ worker: a thin adapter from a job to `runProcessMessage`. Each
 * job runs with its message's trace id; the attempt count decides when a transient failure
 * becomes final.
 */
import { UnrecoverableError, Worker, type ConnectionOptions, type Job } from 'bullmq';
import { PROCESS_QUEUE, createProcessQueue, type ProcessJobData } from '../queue/process-queue';
import type { RegisteredWorker } from '../queue/queue-registry';
import { runProcessMessage, type ProcessDeps, type ProcessOutcome } from './process-message';

export interface ProcessWorkerOptions {
  readonly connection: ConnectionOptions;
  readonly prefix: string;
  readonly concurrency: number;
  /** Lock and stall-check timing; shorter in tests that kill workers. */
  readonly lockDurationMs?: number;
  readonly stalledIntervalMs?: number;
}

/** Creates the BullMQ worker (and its queue handle) for the processing stage. */
export function createProcessWorker(deps: ProcessDeps, o: ProcessWorkerOptions): RegisteredWorker {
  const queue = createProcessQueue(o.connection, o.prefix);
  const processor = async (job: Job<ProcessJobData>): Promise<ProcessOutcome> => {
    const lastAttempt = job.attemptsMade + 1 >= (job.opts.attempts ?? 1);
    const outcome = await runProcessMessage(job.data, deps, lastAttempt);
    // Recorded on the archive row already; failing the job too keeps queue dashboards truthful.
    if (outcome === 'failed') throw new UnrecoverableError('message failed: see its archive row');
    return outcome;
  };
  const worker = new Worker<ProcessJobData, ProcessOutcome>(PROCESS_QUEUE, processor, {
    connection: o.connection,
    prefix: o.prefix,
    concurrency: o.concurrency,
    ...(o.lockDurationMs !== undefined ? { lockDuration: o.lockDurationMs } : {}),
    ...(o.stalledIntervalMs !== undefined ? { stalledInterval: o.stalledIntervalMs } : {}),
  });
  return { name: PROCESS_QUEUE, queue, worker };
}
