/**
 * The MLLP table's control line: with processing running beside it, what share of the floor
 * alone the floor itself keeps, next to the engine's share, so a missed engine/floor target says
 * how much of the gap is the machine's.
 */
import { describe, expect, it } from 'vitest';
import {
  evaluateTargets,
  formatBenchTable,
  type BenchResults,
  type ThroughputRow,
} from '../../engine/src/cli/bench/bench-report';

function row(
  server: ThroughputRow['server'],
  phase: ThroughputRow['phase'],
  msgPerSec: number,
): ThroughputRow {
  const connections = phase === 'one-connection' ? 1 : 8;
  return {
    server,
    phase,
    connections,
    rate: 0,
    accepted: 1000,
    notAccepted: 0,
    msgPerSec,
    p50Ms: 1,
    p99Ms: 5,
    maxMs: 9,
    seconds: 1,
  };
}

function results(rows: ThroughputRow[], besideBacklogLeft?: number): BenchResults {
  return {
    startedAt: '2026-12-04T00:00:00Z',
    quick: true,
    machine: { cpus: 2, node: 'v20', platform: 'linux-x64' },
    rows,
    ...(besideBacklogLeft !== undefined ? { besideBacklogLeft } : {}),
    mapping: [],
    targets: [],
  };
}

const measured = [
  row('floor', 'one-connection', 500),
  row('floor', 'eight-connections', 1400),
  row('engine', 'one-connection', 350),
  row('engine', 'eight-connections', 938),
  row('floor-beside-processing', 'one-connection', 450),
  row('floor-beside-processing', 'eight-connections', 1260),
];

describe('floor beside processing', () => {
  it('is labelled in the table and its share of the floor printed beside the engine share', () => {
    const table = formatBenchTable(results(measured, 1200));
    expect(table).toContain('floor beside processing unpaced, 1 conn');
    expect(table).toContain(
      'with processing running, share of the floor alone kept: 1 connection: floor 90%, engine 70%; ' +
        '8 connections: floor 90%, engine 67%',
    );
    expect(table).not.toContain('ran out of work');
  });

  it('says when the worker beside it ran dry, so the share is only a lower bound', () => {
    expect(formatBenchTable(results(measured, 0))).toContain('ran out of work before the phases ended');
  });

  it('prints no control line without the control rows, and leaves the targets to the engine rows', () => {
    const withoutControl = measured.filter((r) => r.server !== 'floor-beside-processing');
    expect(formatBenchTable(results(withoutControl))).not.toContain('share of the floor alone');
    const ratios = evaluateTargets(measured, undefined, 0).filter((t) => t.name.startsWith('engine/floor'));
    expect(ratios.map((t) => [t.measured, t.pass])).toEqual([
      ['70%', true],
      ['67%', false],
    ]);
  });
});
