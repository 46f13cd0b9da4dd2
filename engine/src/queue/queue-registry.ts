/**
 * Every queue and worker the engine opens, so shutdown closes them all in one place and tests
 * never leak a connection into the next test (after medplum's workers/utils.ts).
 */
import type { Queue, Worker } from 'bullmq';

export interface RegisteredWorker {
  readonly name: string;
  readonly queue: Queue;
  readonly worker: Worker;
}

export class QueueRegistry {
  private readonly entries: RegisteredWorker[] = [];
  private readonly queues: Queue[] = [];

  /** Remembers a worker and its queue. */
  add(entry: RegisteredWorker): void {
    this.entries.push(entry);
  }

  /** Remembers a producer-only queue. */
  addQueue(queue: Queue): void {
    this.queues.push(queue);
  }

  get(name: string): RegisteredWorker | undefined {
    return this.entries.find((e) => e.name === name);
  }

  /** Closes workers first (letting active jobs finish), then queues. */
  async closeAll(): Promise<void> {
    await Promise.allSettled(this.entries.map((e) => e.worker.close()));
    await Promise.allSettled([
      ...this.entries.map((e) => e.queue.close()),
      ...this.queues.map((q) => q.close()),
    ]);
  }
}
