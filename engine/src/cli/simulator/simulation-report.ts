/**
 * Human-readable progress lines and the end-of-run summary of the simulator. Counts and
 * latencies only: a report never prints message content, which is PHI-shaped even when synthetic.
 */
import type { LatencySummary } from './latency-stats';
import type { SimulationResult, SimulationSnapshot } from './run-simulation';

/**
 * One progress line.
 * @param s - the snapshot.
 */
export function formatProgress(s: SimulationSnapshot): string {
  return (
    `[${s.elapsedSec.toFixed(1).padStart(6)}s] sent ${s.sent}  acked ${s.acked}  failed ${s.failed}  ` +
    `${formatCodes(s.ackCodes)}  ${s.recentPerSec.toFixed(0)} msg/s  ${formatLatency(s.latency)}`
  );
}

/**
 * The final report.
 * @param r - the run's result.
 */
export function formatSummary(r: SimulationResult): string {
  const kinds = Object.entries(r.byKind)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([k, n]) => `${k} ${n}`)
    .join(', ');
  const lines = [
    `messages sent     ${r.sent}${r.timedOut ? ' (stopped by the time limit)' : ''}`,
    `ACKs received     ${r.acked}  (${formatCodes(r.ackCodes)})`,
    `send failures     ${r.failed}${Object.keys(r.errors).length > 0 ? `  (${formatCodes(r.errors)})` : ''}`,
    `MSA-2 mismatches  ${r.controlIdMismatches}   unexpected ACKs ${r.unexpectedAcks}`,
    `ACK latency ms    ${formatLatency(r.latency)}`,
    `throughput        ${r.throughputPerSec.toFixed(1)} msg/s over ${r.elapsedSec.toFixed(2)} s`,
    `by type           ${kinds}`,
  ];
  if (r.rawSends > 0) {
    lines.push(
      `raw MLLP sends    ${r.rawSends} (messages node-hl7-client 3.2.0 cannot build: "MSH|" inside a field)`,
    );
  }
  return lines.join('\n');
}

/**
 * True when the run went as it should: every message got AA with the right MSA-2.
 * @param r - the run's result.
 * @param timeLimitIsFailure - a run meant to finish its --count must not be cut short.
 */
export function isCleanRun(r: SimulationResult, timeLimitIsFailure: boolean): boolean {
  const onlyAa = Object.keys(r.ackCodes).every((code) => code === 'AA');
  return (
    onlyAa &&
    r.failed === 0 &&
    Object.keys(r.errors).length === 0 &&
    r.controlIdMismatches === 0 &&
    r.unexpectedAcks === 0 &&
    r.sent > 0 &&
    !(timeLimitIsFailure && r.timedOut)
  );
}

function formatCodes(codes: Readonly<Record<string, number>>): string {
  const entries = Object.entries(codes).sort(([a], [b]) => a.localeCompare(b));
  return entries.length === 0 ? 'none' : entries.map(([k, n]) => `${k} ${n}`).join(' ');
}

function formatLatency(l: LatencySummary): string {
  const f = (n: number): string => n.toFixed(2);
  return `p50 ${f(l.p50)}  p95 ${f(l.p95)}  p99 ${f(l.p99)}  max ${f(l.max)}`;
}
