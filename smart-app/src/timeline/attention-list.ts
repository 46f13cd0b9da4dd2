/**
 * "What needs attention", shown above the timeline: lab results from the hospitals in the last 30
 * days (critical first, then abnormal, corrected, the rest), and inbox notices nobody at the
 * practice has opened. Every facility the engine hears from is outside the PCP's own EHR, so every
 * engine result is "from another facility"; `ownFacilities` excludes any the practice also runs.
 */
import { severityRank } from './result-flags';
import { fhirTime } from './fhir-time';
import type { InboxNotice } from './inbox-notices';
import type { LabReportEvent, TimelineEvent } from './timeline-types';

export const ATTENTION_WINDOW_DAYS = 30;

const DAY_MS = 24 * 60 * 60 * 1000;

export interface AttentionOptions {
  /** Epoch ms. */
  readonly now: number;
  /** @defaultValue ATTENTION_WINDOW_DAYS */
  readonly windowDays?: number;
  /** Facility keys whose results the PCP already has in their own EHR. */
  readonly ownFacilities?: readonly string[];
}

export interface AttentionList {
  readonly results: readonly LabReportEvent[];
  readonly unread: readonly InboxNotice[];
}

/**
 * A report's recency: when it was taken or issued. Not when the engine received it: a backfill of
 * last year's results is not a test done recently elsewhere, which is what the list is for (so a
 * test is not ordered again).
 */
function recencyOf(e: LabReportEvent): number {
  return Math.max(e.time, fhirTime(e.issued) ?? 0);
}

function attentionRank(e: LabReportEvent): number {
  // Corrected sits between abnormal and normal: the PCP may have acted on the earlier value.
  return severityRank(e.flag.severity) * 2 + (e.corrected ? 1 : 0);
}

/** Builds the attention list from the (unfiltered) timeline and the inbox. */
export function buildAttentionList(
  events: readonly TimelineEvent[],
  notices: readonly InboxNotice[],
  options: AttentionOptions,
): AttentionList {
  const since = options.now - (options.windowDays ?? ATTENTION_WINDOW_DAYS) * DAY_MS;
  const own = new Set(options.ownFacilities ?? []);
  const results = events
    .filter((e): e is LabReportEvent => e.type === 'lab' && !own.has(e.facilityKey) && recencyOf(e) >= since)
    .sort((a, b) => attentionRank(b) - attentionRank(a) || recencyOf(b) - recencyOf(a));
  const unread = notices.filter((n) => !n.read);
  return { results, unread };
}
