/**
 * FHIR date, dateTime and instant values as the half-open UTC interval they stand for: `2024-03`
 * is all of March. Index rows and search prefixes both compare these intervals.
 */

/** `[start, end)` as ISO instants; an open end is `infinity`, an open start `-infinity`. */
export interface DateRange {
  readonly start: string;
  readonly end: string;
}

const DATE_RE =
  /^(\d{4})(?:-(\d{2})(?:-(\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?(Z|[+-]\d{2}:\d{2})?)?)?)?$/;

/** PostgreSQL's unbounded past: the start of a Period that gives only an end. */
export const OPEN_START = '-infinity';
/** PostgreSQL's unbounded future: the end of a Period still going on. */
export const OPEN_END = 'infinity';

function utcMs(y: number, mo: number, d: number, h = 0, mi = 0, s = 0, ms = 0): number {
  // setUTCFullYear, unlike Date.UTC, does not read years 0-99 as 1900-1999.
  const date = new Date(0);
  date.setUTCFullYear(y, mo, d);
  date.setUTCHours(h, mi, s, ms);
  return date.getTime();
}

function daysInMonth(y: number, mo: number): number {
  return new Date(utcMs(y, mo + 1, 0)).getUTCDate();
}

function offsetMs(tz: string | undefined): number | undefined {
  if (tz === undefined || tz === 'Z') return 0;
  const sign = tz.startsWith('-') ? -1 : 1;
  const h = Number(tz.slice(1, 3));
  const m = Number(tz.slice(4, 6));
  if (h > 14 || m > 59) return undefined;
  return sign * (h * 60 + m) * 60_000;
}

function iso(ms: number): string {
  const date = new Date(ms);
  return date.getUTCFullYear() > 9999 ? OPEN_END : date.toISOString();
}

/**
 * The interval a FHIR date/dateTime/instant covers, or undefined when it is not one. A value
 * without an offset is read as UTC (search values may omit it; HL7 senders often do too).
 * @param text - `2024`, `2024-03-01`, `2024-03-01T10:00:00.5-05:00`; a space before the offset
 *   is read as `+`, since an unencoded `+` in a query string arrives as a space.
 */
export function parseFhirDate(text: string): DateRange | undefined {
  const m = DATE_RE.exec(text.replace(/ (\d{2}:\d{2})$/, '+$1'));
  if (!m) return undefined;
  const [, ys, mos, ds, hs, mis, ss, frac, tz] = m;
  const y = Number(ys);
  const mo = mos === undefined ? 0 : Number(mos) - 1;
  const d = ds === undefined ? 1 : Number(ds);
  if (y < 1 || mo < 0 || mo > 11 || d < 1 || d > daysInMonth(y, mo)) return undefined;
  if (hs === undefined || mis === undefined) {
    if (mos === undefined) return { start: iso(utcMs(y, 0, 1)), end: iso(utcMs(y + 1, 0, 1)) };
    if (ds === undefined) return { start: iso(utcMs(y, mo, 1)), end: iso(utcMs(y, mo + 1, 1)) };
    return { start: iso(utcMs(y, mo, d)), end: iso(utcMs(y, mo, d + 1)) };
  }
  const h = Number(hs);
  const mi = Number(mis);
  const s = ss === undefined ? 0 : Number(ss);
  const off = offsetMs(tz);
  if (h > 23 || mi > 59 || s > 59 || off === undefined) return undefined;
  const fracMs = frac === undefined ? 0 : Number(`${frac}00`.slice(0, 3));
  const start = utcMs(y, mo, d, h, mi, s, fracMs) - off;
  let width = 60_000;
  if (ss !== undefined) width = frac === undefined ? 1000 : Math.max(1, 10 ** (3 - frac.length));
  return { start: iso(start), end: iso(start + width) };
}

/** The interval a `Period` covers; a missing end means it is still going on. */
export function periodRange(start: string | undefined, end: string | undefined): DateRange | undefined {
  const from = start === undefined ? undefined : parseFhirDate(start);
  const to = end === undefined ? undefined : parseFhirDate(end);
  if ((start !== undefined && from === undefined) || (end !== undefined && to === undefined)) {
    return undefined;
  }
  if (from === undefined && to === undefined) return undefined;
  return { start: from?.start ?? OPEN_START, end: to?.end ?? OPEN_END };
}
