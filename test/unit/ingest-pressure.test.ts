import { afterEach, describe, expect, it, vi } from 'vitest';
import { IngestPressure } from '../../engine/src/pipeline/ingest-pressure';

afterEach(() => {
  vi.useRealTimers();
});

describe('IngestPressure', () => {
  it('lets processing run at once while ingest is quiet', async () => {
    const p = new IngestPressure({ aboveRate: 50, delayMs: 1_000, windowMs: 100 });
    const started = Date.now();
    await p.yieldToIngest();
    expect(Date.now() - started).toBeLessThan(100);
  });

  it('delays processing while ingest is above the rate, and stops once a window passes empty', async () => {
    vi.useFakeTimers();
    const p = new IngestPressure({ aboveRate: 50, delayMs: 40, windowMs: 100 });
    for (let i = 0; i < 20; i++) p.noteIngest(); // 20 in 100 ms = 200 msg/s
    vi.advanceTimersByTime(100);
    expect(p.rate).toBeCloseTo(200, 0);
    let done = false;
    const waiting = p.yieldToIngest().then(() => (done = true));
    await vi.advanceTimersByTimeAsync(39);
    expect(done).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    await waiting;
    expect(done).toBe(true);
    vi.advanceTimersByTime(250);
    expect(p.rate).toBe(0);
  });

  it('stops yielding once the backlog it built reaches the bound', async () => {
    vi.useFakeTimers();
    const p = new IngestPressure({ aboveRate: 50, delayMs: 40, windowMs: 100, maxBacklog: 10 });
    for (let i = 0; i < 20; i++) p.noteIngest();
    vi.advanceTimersByTime(100);
    let done = false;
    const waiting = p.yieldToIngest().then(() => (done = true));
    await vi.advanceTimersByTimeAsync(0);
    await waiting;
    expect(done).toBe(true);
    for (let i = 0; i < 15; i++) p.noteProcessed(); // backlog 5: busy ingest delays again
    const again = p.yieldToIngest();
    let later = false;
    void again.then(() => (later = true));
    await vi.advanceTimersByTimeAsync(10);
    expect(later).toBe(false);
    await vi.advanceTimersByTimeAsync(40);
    expect(later).toBe(true);
  });
});
