/**
 * The shared sweep runner: passes never overlap, and an outage is logged when it starts and when
 * it ends rather than on every pass.
 */
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { startPeriodicSweep } from '../../engine/src/pipeline/periodic-sweep';

function capture(): { logger: pino.Logger; lines: { msg: string }[] } {
  const lines: { msg: string }[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const l of chunk.toString('utf8').split('\n')) {
        if (l !== '') lines.push(JSON.parse(l) as { msg: string });
      }
      done();
    },
  });
  return { logger: pino({ level: 'info' }, sink), lines };
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe('startPeriodicSweep', () => {
  it('logs a failing sweep once when it starts failing and once when it works again', async () => {
    const { logger, lines } = capture();
    let failing = true;
    let passes = 0;
    const stop = startPeriodicSweep({
      name: 'test sweep',
      intervalMs: 10,
      logger,
      run: () => {
        passes++;
        return failing
          ? Promise.reject(Object.assign(new Error('down'), { code: 'ECONNREFUSED' }))
          : Promise.resolve(2);
      },
      report: (n) => logger.info({ n }, 'did work'),
    });
    await sleep(120);
    failing = false;
    await sleep(60);
    stop();
    expect(passes).toBeGreaterThan(5);
    const msgs = lines.map((l) => l.msg);
    expect(msgs.filter((m) => m === 'test sweep unavailable')).toHaveLength(1);
    expect(msgs.filter((m) => m === 'test sweep available again')).toHaveLength(1);
    expect(msgs).toContain('did work');
  });

  it('never starts a pass while the previous one runs', async () => {
    const { logger } = capture();
    let active = 0;
    let most = 0;
    const stop = startPeriodicSweep({
      name: 'slow sweep',
      intervalMs: 5,
      logger,
      run: async () => {
        active++;
        most = Math.max(most, active);
        await sleep(40);
        active--;
        return 0;
      },
      report: () => undefined,
    });
    await sleep(150);
    stop();
    expect(most).toBe(1);
  });
});
