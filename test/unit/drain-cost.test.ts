/**
 * The notify benchmark's drain phase reports CPU per admission read from /proc and WAL from
 * pg_stat_wal; the arithmetic and the /proc parsing are checked here, without a run.
 */
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { costPerAdmission } from '../../engine/src/cli/bench/drain-cost';
import { parseProcStat, procAvailable, processCpuMs } from '../../engine/src/cli/bench/process-cpu';

describe('parseProcStat', () => {
  it('reads utime, stime, cutime and cstime after a command name holding spaces and parentheses', () => {
    // pid (comm) state ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt utime stime cutime cstime ...
    const line = '4242 (node (worker) x) S 1 4242 4242 0 -1 4194304 900 0 0 0 1234 56 7 8 20 0 11 0 100 0';
    expect(parseProcStat(line)).toEqual({ userMs: 12_340, systemMs: 560, childrenMs: 150 });
  });

  it('refuses a line that is not a stat line', () => {
    expect(parseProcStat('no parentheses here')).toBeUndefined();
    expect(parseProcStat('1 (short) S 1 2')).toBeUndefined();
  });

  it.runIf(procAvailable())('counts a child that burned CPU once it has been waited for', () => {
    const before = processCpuMs(process.pid);
    // A child busy for ~300 ms; spawnSync waits for it, so its time lands in this process's cutime.
    spawnSync(process.execPath, ['-e', 'const t = Date.now(); while (Date.now() - t < 300) {}']);
    expect(processCpuMs(process.pid) - before).toBeGreaterThanOrEqual(200);
  });
});

describe('costPerAdmission', () => {
  it('divides each counter by the admissions and the delivered ones by the seconds', () => {
    const cost = costPerAdmission(
      { workerMs: 1000, postgresMs: 5000, redisMs: 10, wal: { records: 100, bytes: 10_000, syncs: 1 } },
      {
        workerMs: 21_000,
        postgresMs: 19_000,
        redisMs: 2010,
        wal: { records: 540_100, bytes: 90_010_000, syncs: 6001 },
      },
      { count: 2000, delivered: 2000, seconds: 25 },
    );
    expect(cost).toEqual({
      count: 2000,
      delivered: 2000,
      seconds: 25,
      perSec: 80,
      workerMs: 10,
      postgresMs: 7,
      redisMs: 1,
      walRecords: 270,
      walBytes: 45_000,
      walSyncs: 3,
    });
  });

  it('leaves out what could not be read on either side, and counts only delivered notices as drained', () => {
    const cost = costPerAdmission(
      { workerMs: 0 },
      { workerMs: 500, postgresMs: 900 },
      { count: 100, delivered: 90, seconds: 3 },
    );
    expect(cost).toEqual({ count: 100, delivered: 90, seconds: 3, perSec: 30, workerMs: 5 });
  });
});
