/**
 * What a dry run says about a mapping change, in the words an analyst decides on: how many
 * outputs change, stay the same or fail, and for each changed one how many values were added,
 * removed or modified (counted from the jsondiffpatch delta, whose format is documented at
 * github.com/benjamine/jsondiffpatch/blob/master/docs/deltas.md).
 */
import type { DryRunResult, DryRunSummary, JsonDelta } from '../api/mapping-types';
import { plural } from '../common/console-format';

export type DryRunVerdict = 'failed' | 'changed' | 'unchanged';

export function verdictOf(r: DryRunResult): DryRunVerdict {
  if (r.failed) return 'failed';
  return r.changed ? 'changed' : 'unchanged';
}

/** The summary counted from the results (for an answer that carried none, or to check one). */
export function summarize(results: readonly DryRunResult[]): DryRunSummary {
  const counts = { changed: 0, unchanged: 0, failed: 0 };
  for (const r of results) counts[verdictOf(r)] += 1;
  return counts;
}

/** "2 changed, 5 unchanged, 1 failed (of 8 messages)". */
export function summaryText(s: DryRunSummary): string {
  const total = s.changed + s.unchanged + s.failed;
  return `${s.changed} changed, ${s.unchanged} unchanged, ${s.failed} failed (of ${plural(total, 'message')})`;
}

/** A result's name: archive id and control ID when the message was archived, else "pasted message". */
export function resultLabel(r: DryRunResult, index: number): string {
  if (r.id !== undefined) return `Message ${r.id}${r.controlId !== undefined ? ` (${r.controlId})` : ''}`;
  if (r.controlId !== undefined) return `Message ${r.controlId}`;
  return `Pasted message ${index + 1}`;
}

export interface DeltaCounts {
  readonly added: number;
  readonly removed: number;
  readonly modified: number;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Counts the leaves of a jsondiffpatch delta by kind. */
export function countDelta(delta: JsonDelta | undefined): DeltaCounts {
  const counts = { added: 0, removed: 0, modified: 0 };
  const walk = (d: unknown): void => {
    if (Array.isArray(d)) {
      // [new] added; [old, new] modified; [old, 0, 0] deleted; [diff, 0, 2] text; ['', to, 3] moved.
      if (d.length === 1) counts.added += 1;
      else if (d.length === 2) counts.modified += 1;
      else if (d.length === 3 && d[2] === 0) counts.removed += 1;
      else if (d.length === 3 && d[2] === 2) counts.modified += 1;
      return;
    }
    if (!isRecord(d)) return;
    for (const [k, v] of Object.entries(d)) {
      if (k === '_t') continue;
      walk(v);
    }
  };
  walk(delta);
  return counts;
}

/** "3 added, 1 removed, 2 modified", or "no differences". */
export function deltaText(c: DeltaCounts): string {
  const parts = [
    c.added > 0 ? `${c.added} added` : '',
    c.removed > 0 ? `${c.removed} removed` : '',
    c.modified > 0 ? `${c.modified} modified` : '',
  ].filter((p) => p !== '');
  return parts.length === 0 ? 'no differences' : parts.join(', ');
}
