/**
 * The notify benchmark's wait for notices, shared by the timed run and the drain phase: it ends
 * when every visit has a notice, counts a repeated notice once, and gives up when notices stop
 * arriving (quietMs) or the bound passes.
 */
import { describe, expect, it } from 'vitest';
import {
  awaitVisits,
  type ArrivedNotice,
  type BenchNoticeReceiver,
} from '../../engine/src/cli/bench/bench-notice-receiver';

function receiver(): BenchNoticeReceiver & { notices: ArrivedNotice[] } {
  return { url: 'http://127.0.0.1:1/fhir', notices: [], unexpected: 0, close: () => Promise.resolve() };
}

const notice = (visit: string): ArrivedNotice => ({ at: performance.now(), noticeId: `n-${visit}`, visit });

describe('awaitVisits', () => {
  it('ends once every visit has a notice, counting a repeat and other visits not at all', async () => {
    const r = receiver();
    r.notices.push(notice('other'), notice('v1'));
    setTimeout(() => r.notices.push(notice('v1'), notice('v2')), 60);
    const started = performance.now();
    expect(await awaitVisits(r, new Set(['v1', 'v2']), { maxMs: 5000 })).toBe(2);
    expect(performance.now() - started).toBeLessThan(1000);
  });

  it('gives up when nothing arrives for quietMs, and at maxMs otherwise', async () => {
    const r = receiver();
    r.notices.push(notice('v1'));
    let started = performance.now();
    expect(await awaitVisits(r, new Set(['v1', 'v2']), { maxMs: 5000, quietMs: 100 })).toBe(1);
    expect(performance.now() - started).toBeLessThan(1000);
    started = performance.now();
    expect(await awaitVisits(r, new Set(['v1', 'v2']), { maxMs: 150 })).toBe(1);
    expect(performance.now() - started).toBeGreaterThanOrEqual(140);
  });
});
