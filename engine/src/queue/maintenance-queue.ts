/**
 * The queue of the engine's own housekeeping (the retention purge): a BullMQ job scheduler adds
 * one job per interval, so however many worker processes run, one of them does each purge.
 */
import { Queue, type ConnectionOptions, type JobsOptions } from 'bullmq';

export const MAINTENANCE_QUEUE = 'maintenance';

/** The job scheduler id (and job name) of the retention purge. */
export const RETENTION_SCHEDULER = 'retention-purge';

export const maintenanceJobOptions: JobsOptions = {
  // A purge that failed (the store away) waits for the next turn of the schedule instead.
  attempts: 1,
  removeOnComplete: { count: 100 },
  removeOnFail: { count: 100 },
};

/** Opens the producer side of the maintenance queue. */
export function createMaintenanceQueue(connection: ConnectionOptions, prefix: string): Queue {
  return new Queue(MAINTENANCE_QUEUE, { connection, prefix, defaultJobOptions: maintenanceJobOptions });
}
