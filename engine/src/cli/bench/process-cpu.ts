/**
 * CPU time of processes, from /proc (Linux): what a benchmark phase cost the worker, PostgreSQL
 * and Redis, not only how long it took. On a machine where they share the cores, a rate alone
 * cannot say which of them a change made cheaper.
 */
import { readFileSync, readdirSync } from 'node:fs';

/**
 * Clock ticks a second in /proc/<pid>/stat. USER_HZ is 100 on every Linux architecture Node runs
 * on; the kernel converts to it whatever its own tick rate.
 */
export const USER_HZ = 100;

/** CPU of one process, in ms. */
export interface CpuTime {
  readonly userMs: number;
  readonly systemMs: number;
  /** Of waited-for children (a postmaster's exited backends). */
  readonly childrenMs: number;
}

/**
 * Reads utime, stime, cutime and cstime from the text of /proc/<pid>/stat. The command name
 * (field 2) is in parentheses and may itself hold spaces and parentheses, so the fields are
 * counted from its last `)`.
 * @returns undefined when the text is not a stat line.
 */
export function parseProcStat(text: string): CpuTime | undefined {
  const close = text.lastIndexOf(')');
  if (close < 0) return undefined;
  // After ") ": field 3 (state) onwards; utime is field 14.
  const f = text
    .slice(close + 2)
    .trim()
    .split(/\s+/);
  const [utime, stime, cutime, cstime] = [f[11], f[12], f[13], f[14]].map(Number);
  if ([utime, stime, cutime, cstime].some((n) => n === undefined || !Number.isFinite(n))) return undefined;
  const ms = (ticks: number | undefined): number => ((ticks ?? 0) * 1000) / USER_HZ;
  return { userMs: ms(utime), systemMs: ms(stime), childrenMs: ms(cutime) + ms(cstime) };
}

/** All CPU (own and waited-for children) of `pid`, in ms; 0 once the process is gone. */
export function processCpuMs(pid: number): number {
  try {
    const t = parseProcStat(readFileSync(`/proc/${pid}/stat`, 'utf8'));
    return t === undefined ? 0 : t.userMs + t.systemMs + t.childrenMs;
  } catch {
    return 0;
  }
}

/**
 * All CPU of the processes whose command name is `name` (`postgres`, `redis-server`), in ms. A
 * backend that exited during the phase leaves its time in the postmaster's children figure,
 * which this counts too, so connections opened and closed meanwhile are not lost.
 */
export function commandCpuMs(name: string): number {
  let total = 0;
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readFileSync(`/proc/${entry}/comm`, 'utf8').trim() !== name) continue;
    } catch {
      continue;
    }
    total += processCpuMs(Number(entry));
  }
  return total;
}

/** Whether /proc can be read here (Linux). */
export function procAvailable(): boolean {
  try {
    readFileSync('/proc/self/stat', 'utf8');
    return true;
  } catch {
    return false;
  }
}
