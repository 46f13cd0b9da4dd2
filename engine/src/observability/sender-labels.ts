/**
 * The `sender` label of the per-sender message counters. Every label value is a time series that
 * Prometheus keeps, and MSH-4 is whatever a peer writes in its header, so the values are bounded:
 * with MLLP_ALLOWED_SENDERS only the facilities it names, and at most `max` distinct values in
 * all (the first seen since start); everything else is counted as `other`.
 */
import type { AllowedSender } from '../config/schema';

/** The label of a sender beyond the cap, or not on the allowlist. */
export const OTHER_SENDER = 'other';
/** The label of a message without MSH-4. */
export const UNKNOWN_SENDER = 'unknown';

export interface SenderLabelOptions {
  /** @defaultValue 200 */
  readonly max?: number;
  /** MLLP_ALLOWED_SENDERS; undefined: any facility may have its own label. */
  readonly allowedSenders?: readonly AllowedSender[] | undefined;
}

export class SenderLabels {
  private readonly seen = new Set<string>();
  private readonly max: number;
  private readonly allowed: ReadonlySet<string> | undefined;

  constructor(o: SenderLabelOptions = {}) {
    this.max = o.max ?? 200;
    this.allowed =
      o.allowedSenders === undefined ? undefined : new Set(o.allowedSenders.map((a) => a.facility));
  }

  /**
   * The label value for a message's sending facility (MSH-4.1).
   * @param facility - MSH-4.1 as archived; empty or absent is `unknown`.
   */
  of(facility: string | null | undefined): string {
    if (facility === undefined || facility === null || facility === '') return UNKNOWN_SENDER;
    if (this.allowed !== undefined && !this.allowed.has(facility)) return OTHER_SENDER;
    if (this.seen.has(facility)) return facility;
    if (this.seen.size >= this.max) return OTHER_SENDER;
    this.seen.add(facility);
    return facility;
  }
}
