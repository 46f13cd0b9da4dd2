/**
 * HL7 DTM/DT/TS to FHIR date, dateTime and instant. The sender's UTC offset is kept as sent,
 * because the store orders updates by event time and a shifted time would reorder them.
 */

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

/** `YYYY`, `YYYY-MM` or `YYYY-MM-DD` from a DT or DTM. */
export function toFhirDate(text: string): string | undefined {
  const p = parseDtm(text);
  if (p === undefined) return undefined;
  return [p.year, p.month, p.day].filter((x) => x !== undefined).join('-');
}

/**
 * A FHIR dateTime. A time needs a zone in FHIR: with no offset in the message and no `timezone`
 * configured, the value is reduced to its date rather than guessed.
 */
export function toFhirDateTime(text: string, timezone?: string): string | undefined {
  const p = parseDtm(text);
  if (p === undefined) return undefined;
  const date = [p.year, p.month, p.day].filter((x) => x !== undefined).join('-');
  const zone = p.offset !== undefined ? formatOffset(p.offset) : timezone;
  if (p.hour === undefined || p.day === undefined || zone === undefined) return date;
  const frac = p.fraction !== undefined && p.second !== undefined ? `.${p.fraction}` : '';
  return `${date}T${p.hour}:${p.minute ?? '00'}:${p.second ?? '00'}${frac}${zone}`;
}

/** A FHIR instant: needs at least minutes and a zone; undefined otherwise. */
export function toFhirInstant(text: string, timezone?: string): string | undefined {
  const p = parseDtm(text);
  if (p?.minute === undefined) return undefined;
  if (p.offset === undefined && timezone === undefined) return undefined;
  return toFhirDateTime(text, timezone);
}
