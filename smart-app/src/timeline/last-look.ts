/**
 * "New since my last look": the time a PCP last opened a patient's timeline, kept in this
 * browser's localStorage per EHR and patient, and what arrived at the engine after it. The store is
 * local on purpose: it is a reading aid, not a record, and needs no PHI beyond the ids already in
 * the EHR session.
 */
import { fhirTime } from './fhir-time';
import type { TimelineEvent } from './timeline-types';

const KEY_PREFIX = 'care-timeline:last-look:';

/** The storage this needs; `localStorage` in the app, a Map in tests. */
export type LastLookStorage = Pick<Storage, 'getItem' | 'setItem'>;

/** The localStorage key of one patient at one EHR. */
export function lastLookKey(issuer: string, patientId: string): string {
  return `${KEY_PREFIX}${issuer}|${patientId}`;
}

/**
 * The last look saved under `key`, or undefined when there is none or storage is unavailable
 * (a sandboxed or partitioned iframe can refuse it: then nothing is marked new, which is the
 * honest answer).
 */
export function readLastLook(storage: LastLookStorage | undefined, key: string): string | undefined {
  try {
    const value = storage?.getItem(key) ?? null;
    return value !== null && fhirTime(value) !== undefined ? value : undefined;
  } catch {
    return undefined;
  }
}

/** Saves `when` under `key`; returns false when storage refused it. */
export function writeLastLook(storage: LastLookStorage | undefined, key: string, when: string): boolean {
  try {
    if (storage === undefined) return false;
    storage.setItem(key, when);
    return true;
  } catch {
    return false;
  }
}

/** Whether something received at `receivedAt` is new since `lastLook` (nothing is before a first look). */
export function isNewSince(receivedAt: string | undefined, lastLook: string | undefined): boolean {
  const since = fhirTime(lastLook);
  const at = fhirTime(receivedAt);
  return since !== undefined && at !== undefined && at > since;
}

/** How many events arrived after `lastLook`. */
export function countNewSince(events: readonly TimelineEvent[], lastLook: string | undefined): number {
  if (lastLook === undefined) return 0;
  return events.reduce((n, e) => n + (isNewSince(e.provenance.receivedAt, lastLook) ? 1 : 0), 0);
}
