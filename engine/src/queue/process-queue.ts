/**
 * The queue that carries archived messages to processing. Job IDs derive from the archive row,
 * so re-adding an unfinished message (a retried send, the recovery sweep) never duplicates work.
 */
import { Queue, type ConnectionOptions, type JobsOptions } from 'bullmq';

export const PROCESS_QUEUE = 'process';

/** What a processing job carries: IDs only, never message content (PHI stays in the database). */
export interface ProcessJobData {
  readonly messageId: string;
  /** MSH-10, for logs and tracing. */
  readonly controlId: string;
  readonly traceId: string;
}

export const processJobOptions: JobsOptions = {
  attempts: 8,
  backoff: { type: 'exponential', delay: 500 },
  // Completed jobs stay for an hour so a re-add with the same ID within that time is ignored.
  removeOnComplete: { age: 3600, count: 50_000 },
  removeOnFail: { age: 7 * 24 * 3600 },
};

/** Job ID for a message's first processing run (no `:`: BullMQ reserves it). */
export function processJobId(messageId: string): string {
  return `m-${messageId}`;
}

/** Opens the producer side of the processing queue. */
export function createProcessQueue(connection: ConnectionOptions, prefix: string): Queue<ProcessJobData> {
  return new Queue<ProcessJobData>(PROCESS_QUEUE, {
    connection,
    prefix,
    defaultJobOptions: processJobOptions,
  });
}

/** Queues a message; resolves once Redis has the job. */
export async function enqueueMessage(
  queue: Queue<ProcessJobData>,
  data: ProcessJobData,
  jobId: string = processJobId(data.messageId),
): Promise<void> {
  await queue.add('process', data, { jobId });
}
