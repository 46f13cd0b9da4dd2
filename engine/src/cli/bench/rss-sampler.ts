/**
 * Samples this process's resident set size while a phase runs, because the engine runs in the
 * benchmark's process and a single reading at the end would miss the peak.
 */

export interface RssSampler {
  /** Highest RSS seen so far, in bytes. */
  peak(): number;
  /** Stops sampling and returns the peak. */
  stop(): number;
}

/**
 * Starts sampling `process.memoryUsage().rss`.
 * @param everyMs - sampling interval. @defaultValue 100
 */
export function startRssSampler(everyMs = 100): RssSampler {
  let peak = process.memoryUsage().rss;
  const timer = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage().rss);
  }, everyMs);
  timer.unref();
  return {
    peak: () => peak,
    stop() {
      clearInterval(timer);
      peak = Math.max(peak, process.memoryUsage().rss);
      return peak;
    },
  };
}
