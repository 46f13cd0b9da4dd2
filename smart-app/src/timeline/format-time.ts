/**
 * Times as the PCP reads them, in the browser's zone and locale. Formatters are built once:
 * creating an Intl.DateTimeFormat per item would dominate the render of a 500-event timeline.
 */
import { fhirTime } from './fhir-time';

const DATE_TIME = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' });
const DATE_ONLY = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium' });

const HOUR_MS = 60 * 60 * 1000;
const DAY_MS = 24 * HOUR_MS;

/** A FHIR date or dateTime for display; a bare date has no time. Unparseable values show as sent. */
export function formatFhirTime(value: string | undefined): string {
  if (value === undefined || value === '') return '';
  const t = fhirTime(value);
  if (t === undefined) return value;
  return /^\d{4}(-\d{2}){0,2}$/.test(value) ? DATE_ONLY.format(t) : DATE_TIME.format(t);
}

/** The `<time dateTime>` attribute for a FHIR value (it already is ISO 8601). */
export function machineTime(value: string | undefined): string | undefined {
  return value === undefined || fhirTime(value) === undefined ? undefined : value;
}

/** "3 days", "5 hours", "40 minutes" between two epoch-ms times. */
export function formatDuration(startMs: number, endMs: number): string {
  const ms = Math.max(0, endMs - startMs);
  if (ms >= 2 * DAY_MS) return `${Math.round(ms / DAY_MS)} days`;
  if (ms >= 2 * HOUR_MS) return `${Math.round(ms / HOUR_MS)} hours`;
  const minutes = Math.round(ms / 60_000);
  return minutes === 1 ? '1 minute' : `${minutes} minutes`;
}

/** A local calendar day `YYYY-MM-DD` of an epoch-ms time (for date inputs). */
export function localDay(ms: number): string {
  const d = new Date(ms);
  const pad = (n: number): string => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;
}
