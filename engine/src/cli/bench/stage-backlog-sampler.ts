/**
 * Samples how many jobs wait in each stage's queue while the notification benchmark sends, so a
 * missed latency target says which stage fell behind, not only that one did.
 */
import type { Queue } from 'bullmq';

export interface StageBacklog {
  readonly process: number;
  readonly notify: number;
  readonly deliver: number;
}

export interface StageBacklogSampler {
  /** Stops sampling (after the sample in flight) and returns the peak of each stage and the samples taken. */
  stop(): Promise<{ readonly peak: StageBacklog; readonly mean: StageBacklog; readonly samples: number }>;
}

/** Jobs of `queue` not yet finished: waiting, delayed, prioritized and active. */
export async function unfinishedJobs(queue: Queue): Promise<number> {
  const counts = await queue.getJobCounts('waiting', 'delayed', 'prioritized', 'active');
  return Object.values(counts).reduce((a, b) => a + b, 0);
}

/**
 * Starts sampling the three queues.
 * @param queues - the engine's process, notify and deliver queues.
 * @param everyMs - sampling interval. @defaultValue 500
 */
export function startStageBacklogSampler(
  queues: { readonly process: Queue; readonly notify: Queue; readonly deliver: Queue },
  everyMs = 500,
): StageBacklogSampler {
  const peak = { process: 0, notify: 0, deliver: 0 };
  const total = { process: 0, notify: 0, deliver: 0 };
  let samples = 0;
  let stopped = false;
  let inFlight: Promise<void> = Promise.resolve();
  const sample = async (): Promise<void> => {
    const [p, n, d] = await Promise.all([
      unfinishedJobs(queues.process),
      unfinishedJobs(queues.notify),
      unfinishedJobs(queues.deliver),
    ]);
    samples++;
    total.process += p;
    total.notify += n;
    total.deliver += d;
    peak.process = Math.max(peak.process, p);
    peak.notify = Math.max(peak.notify, n);
    peak.deliver = Math.max(peak.deliver, d);
  };
  const timer = setInterval(() => {
    if (stopped) return;
    // A sample that fails (Redis busy) is skipped: the backlog is a diagnosis, not a result.
    inFlight = inFlight.then(sample).catch(() => undefined);
  }, everyMs);
  timer.unref();
  return {
    async stop() {
      stopped = true;
      clearInterval(timer);
      await inFlight;
      const mean = (x: number): number => (samples === 0 ? 0 : x / samples);
      return {
        peak: { ...peak },
        mean: { process: mean(total.process), notify: mean(total.notify), deliver: mean(total.deliver) },
        samples,
      };
    },
  };
}
