/**
 * HL7 DTM/DT/TS to FHIR date, dateTime and instant. A UTC offset the sender sent is kept as
 * sent, because the store orders updates by event time and a shifted time would reorder them.
 * A time sent without one is read in the sender's IANA zone (luxon, DST rules included) and
 * written with the offset that zone had then, so the time of day survives.
 */
import { DateTime } from 'luxon';

const DTM = /^(\d{4})(\d{2})?(\d{2})?(\d{2})?(\d{2})?(\d{2})?(?:\.(\d{1,4}))?([+-]\d{4})?$/;

interface DtmParts {
  readonly year: string;
  readonly month?: string | undefined;
  readonly day?: string | undefined;
  readonly hour?: string | undefined;
  readonly minute?: string | undefined;
  readonly second?: string | undefined;
  readonly fraction?: string | undefined;
  readonly offset?: string | undefined;
}

/** A FHIR dateTime and whether a zone had to be assumed to write it. */
export interface FhirDateTime {
  readonly value: string;
  /** True when the HL7 time had no offset and the given zone supplied it. */
  readonly zoneAssumed: boolean;
}

function parseDtm(text: string): DtmParts | undefined {
  const m = DTM.exec(text.trim());
  if (!m) return undefined;
  const [, year = '', month, day, hour, minute, second, fraction, offset] = m;
  const p: DtmParts = { year, month, day, hour, minute, second, fraction, offset };
  return isValid(p) ? p : undefined;
}

function isValid(p: DtmParts): boolean {
  if (p.year === '0000') return false;
  if (p.month !== undefined && (+p.month < 1 || +p.month > 12)) return false;
  if (p.day !== undefined) {
    const days = new Date(Date.UTC(+p.year, Number(p.month), 0)).getUTCDate();
    if (+p.day < 1 || +p.day > days) return false;
  }
  if (p.hour !== undefined && +p.hour > 23) return false;
  if (p.minute !== undefined && +p.minute > 59) return false;
  if (p.second !== undefined && +p.second > 59) return false;
  if (p.offset !== undefined && (+p.offset.slice(1, 3) > 14 || +p.offset.slice(3) > 59)) return false;
  return true;
}

function formatOffset(offset: string): string {
  return `${offset.slice(0, 3)}:${offset.slice(3)}`;
}

function dateOf(p: DtmParts): string {
  return [p.year, p.month, p.day].filter((x) => x !== undefined).join('-');
}

/**
 * The local time `p` in `zone`, resolved the way RFC 9557 / Temporal's `compatible`
 * disambiguation (and java.time) do:
 * - a local time that does not exist (the hour skipped when clocks spring forward, 02:30 on
 *   2026-03-08 in New York) is moved forward by the gap: 03:30-04:00, the instant a clock that
 *   missed the change would have meant. luxon does this itself.
 * - a local time that happens twice (01:30 on 2026-11-01 in New York) takes the earlier of its
 *   two offsets, the first occurrence (01:30-04:00). luxon would pick the later one, so the
 *   candidates are compared here: the first reading is the one the sender's clock showed first,
 *   and a feed that meant the second has no way to say so without an offset anyway.
 */
function resolveLocal(p: DtmParts, zone: string): DateTime {
  const local = DateTime.fromObject(
    {
      year: +p.year,
      month: Number(p.month),
      day: Number(p.day),
      hour: Number(p.hour),
      minute: Number(p.minute ?? '0'),
      second: Number(p.second ?? '0'),
    },
    { zone },
  );
  if (!local.isValid) {
    // Zones are checked where they are configured (sender.yaml, DEFAULT_TIMEZONE): reaching this
    // is a bug, not a message problem.
    throw new Error(`time zone "${zone}" cannot be used: ${local.invalidExplanation ?? 'invalid'}`);
  }
  const candidates = local.getPossibleOffsets();
  return candidates.reduce((a, b) => (b.toMillis() < a.toMillis() ? b : a), local);
}

/** `YYYY`, `YYYY-MM` or `YYYY-MM-DD` from a DT or DTM. */
export function toFhirDate(text: string): string | undefined {
  const p = parseDtm(text);
  return p === undefined ? undefined : dateOf(p);
}

/**
 * A FHIR dateTime, telling whether `zone` was assumed. An offset in the message is kept exactly;
 * a time without one is read in `zone`; a value with no time (a date, or a year and month) stays
 * what it is, since FHIR dateTime allows a partial date without a zone.
 * @param text - the DTM as sent
 * @param zone - IANA zone of the sender (or DEFAULT_TIMEZONE), already validated
 */
export function readFhirDateTime(text: string, zone: string): FhirDateTime | undefined {
  const p = parseDtm(text);
  if (p === undefined) return undefined;
  if (p.hour === undefined || p.day === undefined) return { value: dateOf(p), zoneAssumed: false };
  // The fraction is kept digit for digit (HL7 allows four, luxon keeps milliseconds).
  const frac = p.fraction !== undefined && p.second !== undefined ? `.${p.fraction}` : '';
  if (p.offset !== undefined) {
    const time = `${p.hour}:${p.minute ?? '00'}:${p.second ?? '00'}`;
    return { value: `${dateOf(p)}T${time}${frac}${formatOffset(p.offset)}`, zoneAssumed: false };
  }
  const at = localMinute(p, zone);
  return { value: `${at.minute}:${p.second ?? '00'}${frac}${at.offset}`, zoneAssumed: true };
}

/**
 * Local minutes already resolved in a zone. Resolving one through luxon costs some 45 µs, a dozen
 * times an ADT's budget, and a feed sends the same minutes again and again (EVN-2 read for the
 * event time, the period and the Provenance; messages of one minute). Every tz transition falls on
 * a minute, so the seconds never change the answer. Bounded: cleared when full.
 */
const resolvedMinutes = new Map<string, { readonly minute: string; readonly offset: string }>();
const MAX_RESOLVED_MINUTES = 10_000;

function localMinute(p: DtmParts, zone: string): { readonly minute: string; readonly offset: string } {
  const key = `${zone}|${p.year}${p.month ?? ''}${p.day ?? ''}${p.hour ?? ''}${p.minute ?? '00'}`;
  let found = resolvedMinutes.get(key);
  if (found === undefined) {
    const at = resolveLocal({ ...p, second: undefined }, zone);
    found = { minute: at.toFormat("yyyy-MM-dd'T'HH:mm"), offset: at.toFormat('ZZ') };
    if (resolvedMinutes.size >= MAX_RESOLVED_MINUTES) resolvedMinutes.clear();
    resolvedMinutes.set(key, found);
  }
  return found;
}

/** A FHIR dateTime (see readFhirDateTime). */
export function toFhirDateTime(text: string, zone: string): string | undefined {
  return readFhirDateTime(text, zone)?.value;
}

/** A FHIR instant: needs at least minutes; undefined for a date or an hour alone. */
export function readFhirInstant(text: string, zone: string): FhirDateTime | undefined {
  const p = parseDtm(text);
  if (p?.minute === undefined) return undefined;
  return readFhirDateTime(text, zone);
}

/** A FHIR instant (see readFhirInstant). */
export function toFhirInstant(text: string, zone: string): string | undefined {
  return readFhirInstant(text, zone)?.value;
}

const TO_THE_MINUTE = /^\d{12}/;
const MINUTES = /^\d+(\.\d+)?$/;

/**
 * A FHIR dateTime `minutes` after another, in the same UTC offset (the same instant a clock in
 * the sender's zone would show, DST aside): the guide's PR1-5 + PR1-7 procedure end. Undefined
 * when the HL7 time was not given to the minute (the guide's condition for a period), or the
 * minutes are not a number.
 * @param dtm - the HL7 time as sent, to check its precision.
 * @param start - the FHIR dateTime it was converted to.
 * @param minutes - the NM text of the minutes, e.g. `95`.
 */
export function plusMinutes(dtm: string, start: string, minutes: string): string | undefined {
  if (!TO_THE_MINUTE.test(dtm) || !MINUTES.test(minutes)) return undefined;
  const at = DateTime.fromISO(start, { setZone: true });
  if (!at.isValid) return undefined;
  const end = at.plus({ milliseconds: Math.round(Number(minutes) * 60_000) });
  return `${end.toFormat("yyyy-MM-dd'T'HH:mm:ss")}${end.toFormat('ZZ')}`;
}
