/**
 * Samples a process's resident set size while a phase runs: a single reading at the end would
 * miss the peak. For another process it reads /proc (Linux), whose VmHWM is the kernel's own
 * high-water mark, so a peak between two samples is not missed either.
 */
import { readFileSync } from 'node:fs';

export interface RssSampler {
  /** Highest RSS seen so far, in bytes. */
  peak(): number;
  /** Stops sampling and returns the peak. */
  stop(): number;
}

/** RSS and its high-water mark of a process, in bytes, from /proc/<pid>/status. */
export function readProcessRss(pid: number): { rss: number; hwm: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (field: string): number =>
    Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? 0);
  return { rss: kb('VmRSS') * 1024, hwm: kb('VmHWM') * 1024 };
}

/**
 * Starts sampling.
 * @param pid - the process to watch; undefined watches this one (`process.memoryUsage().rss`).
 * @param everyMs - sampling interval. @defaultValue 100
 */
export function startRssSampler(pid?: number, everyMs = 100): RssSampler {
  const read = (): number =>
    pid === undefined ? process.memoryUsage().rss : Math.max(...Object.values(readProcessRss(pid)));
  let peak = read();
  const timer = setInterval(() => {
    peak = Math.max(peak, read());
  }, everyMs);
  timer.unref();
  return {
    peak: () => peak,
    stop() {
      clearInterval(timer);
      peak = Math.max(peak, read());
      return peak;
    },
  };
}

/** The current RSS of `pid` (or of this process), in bytes. */
export function currentRss(pid?: number): number {
  return pid === undefined ? process.memoryUsage().rss : readProcessRss(pid).rss;
}
