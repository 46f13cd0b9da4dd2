/**
 * A practice's roster as uploaded: CSV with a header row, one attributed patient a row. Pure.
 * Every data row either becomes a RosterRow or is reported with its number and why, so a
 * practice learns which of its patients the engine could not take, instead of silently losing them.
 */
import { parse, type CsvError } from 'csv-parse/sync';
import { CodedError, errorGuard } from '../errors/coded-error';
import { normalizePhone } from '../identity/address-forms';
import { nameKey } from '../identity/name-forms';

export type RosterGender = 'male' | 'female' | 'other' | 'unknown';

/** One valid data row. `row` counts data rows from 1 (the header is not counted). */
export interface RosterRow {
  readonly row: number;
  readonly family: string;
  /** Given names in order: the first, then middle names ("Mary Ann" → Mary, Ann). */
  readonly given: readonly string[];
  /** `YYYY-MM-DD`. */
  readonly birthDate: string;
  readonly gender: RosterGender;
  /** Five-digit ZIP, or ZIP+4 as `12345-6789`. */
  readonly postalCode: string;
  readonly identifier?: { readonly system: string; readonly value: string };
  /** The attributed practitioner's NPI. */
  readonly npi?: string;
  /** Ten digits. */
  readonly phone?: string;
}

/** A data row refused, and why (never its values: they are PHI). */
export interface InvalidRosterRow {
  readonly row: number;
  readonly reason: string;
}

export interface ParsedRoster {
  readonly rows: readonly RosterRow[];
  readonly invalid: readonly InvalidRosterRow[];
}

export const RosterCsvErrorCode = {
  /** The header row is missing, names an unknown column, repeats one, or lacks a required one. */
  Header: 'roster-header',
  /** Not CSV that can be read (an unclosed quote, a stray quote inside a field). */
  Malformed: 'roster-malformed',
  /** Over the row or size limit. */
  TooLarge: 'roster-too-large',
} as const;
export type RosterCsvErrorCode = (typeof RosterCsvErrorCode)[keyof typeof RosterCsvErrorCode];

/** The upload as a whole cannot be taken; row problems are `InvalidRosterRow`s instead. */
export class RosterCsvError extends CodedError<RosterCsvErrorCode> {
  override readonly name = 'RosterCsvError';
}

export const isRosterCsvError = errorGuard<RosterCsvError>('RosterCsvError');

export interface RosterLimits {
  /** @defaultValue 50,000 data rows */
  readonly maxRows?: number;
  /** @defaultValue 10 MiB */
  readonly maxBytes?: number;
}

export const MAX_ROSTER_ROWS = 50_000;
export const MAX_ROSTER_BYTES = 10 * 1024 * 1024;

const REQUIRED = ['family', 'given', 'birthDate', 'gender', 'postalCode'] as const;
const OPTIONAL = ['identifier', 'npi', 'phone'] as const;
type Column = (typeof REQUIRED)[number] | (typeof OPTIONAL)[number];

/** Canonical column names by their lower-case form: headers are matched case-insensitively. */
const COLUMNS: ReadonlyMap<string, Column> = new Map(
  [...REQUIRED, ...OPTIONAL].map((c) => [c.toLowerCase(), c] as const),
);

/** Longest value any field may hold; longer is a paste gone wrong, not a name. */
const MAX_FIELD = 200;

const GENDERS: Readonly<Record<string, RosterGender>> = {
  male: 'male',
  m: 'male',
  female: 'female',
  f: 'female',
  other: 'other',
  unknown: 'unknown',
};

/**
 * The column of each field position, refusing unknown, repeated and missing columns. Unknown
 * columns are named by position, not by text: a roster sent without its header row has a
 * patient's name and birth date there, which must not come back in the answer.
 */
function readHeader(header: readonly string[]): Column[] {
  const columns: Column[] = [];
  const unknown: number[] = [];
  const repeated = new Set<Column>();
  header.forEach((raw, i) => {
    const column = COLUMNS.get(raw.trim().toLowerCase());
    if (column === undefined) unknown.push(i + 1);
    else if (columns.includes(column)) repeated.add(column);
    else columns.push(column);
  });
  const problems: string[] = [];
  if (unknown.length > 0) {
    problems.push(
      `unknown column${unknown.length > 1 ? 's' : ''} at position ${unknown.slice(0, 10).join(', ')} (allowed, in any order and case: ${[...REQUIRED, ...OPTIONAL].join(', ')})`,
    );
  }
  if (repeated.size > 0) problems.push(`repeated column ${[...repeated].join(', ')}`);
  const missing = REQUIRED.filter((c) => !columns.includes(c));
  if (missing.length > 0) problems.push(`missing required column ${missing.join(', ')}`);
  if (problems.length > 0) {
    throw new RosterCsvError(RosterCsvErrorCode.Header, `header row: ${problems.join('; ')}`);
  }
  return columns;
}

/**
 * True when `npi` passes the NPI check digit: Luhn over `80840` (the health-industry prefix of
 * ISO 7812) followed by the ten digits.
 */
export function isValidNpi(npi: string): boolean {
  if (!/^\d{10}$/.test(npi)) return false;
  const digits = `80840${npi}`;
  let sum = 0;
  for (let i = 0; i < digits.length; i++) {
    let d = digits.charCodeAt(digits.length - 1 - i) - 48;
    if (i % 2 === 1) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
  }
  return sum % 10 === 0;
}

/** Why `value` is no birth date we accept, or undefined when it is one. */
function birthDateProblem(value: string, today: string): string | undefined {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(value);
  if (m === null) return 'birthDate must be YYYY-MM-DD';
  const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const date = new Date(Date.UTC(y, mo - 1, d));
  if (date.getUTCFullYear() !== y || date.getUTCMonth() !== mo - 1 || date.getUTCDate() !== d) {
    return 'birthDate is not a real date';
  }
  if (y < 1870) return 'birthDate is before 1870';
  if (value > today) return 'birthDate is in the future';
  return undefined;
}

function nameProblem(column: 'family' | 'given', value: string): string | undefined {
  if (value === '') return `${column} is required`;
  if (nameKey(value) === '') return `${column} must contain letters`;
  if (/[\d@<>]/.test(value)) return `${column} must be a name (no digits or symbols)`;
  return undefined;
}

/** The row as a RosterRow, or why it is refused (the first problem found, in column order). */
function readRow(
  row: number,
  fields: Readonly<Partial<Record<Column, string>>>,
  today: string,
): RosterRow | InvalidRosterRow {
  const get = (c: Column): string => fields[c] ?? '';
  const refuse = (reason: string): InvalidRosterRow => ({ row, reason });
  for (const c of [...REQUIRED, ...OPTIONAL]) {
    if (get(c).length > MAX_FIELD) return refuse(`${c} is longer than ${MAX_FIELD} characters`);
    // eslint-disable-next-line no-control-regex -- control characters are exactly what is refused
    if (/[\u0000-\u001f\u007f]/.test(get(c))) return refuse(`${c} contains control characters`);
  }
  const family = get('family');
  const given = get('given');
  const problem = nameProblem('family', family) ?? nameProblem('given', given);
  if (problem !== undefined) return refuse(problem);
  const birthDate = get('birthDate');
  if (birthDate === '') return refuse('birthDate is required');
  const dateProblem = birthDateProblem(birthDate, today);
  if (dateProblem !== undefined) return refuse(dateProblem);
  const genderRaw = get('gender');
  if (genderRaw === '') return refuse('gender is required');
  const gender = GENDERS[genderRaw.toLowerCase()];
  if (gender === undefined) return refuse('gender must be male, female, other or unknown (or M, F)');
  const postal = get('postalCode');
  if (postal === '') return refuse('postalCode is required');
  if (!/^\d{5}(-\d{4})?$/.test(postal)) {
    return refuse('postalCode must be a US ZIP code: 12345 or 12345-6789');
  }
  const out: { -readonly [K in keyof RosterRow]: RosterRow[K] } = {
    row,
    family,
    given: given.split(/\s+/),
    birthDate,
    gender,
    postalCode: postal,
  };
  const identifier = get('identifier');
  if (identifier !== '') {
    const bar = identifier.indexOf('|');
    const system = identifier.slice(0, bar);
    const value = identifier.slice(bar + 1);
    if (bar <= 0 || value === '' || /\s/.test(system)) return refuse('identifier must be system|value');
    out.identifier = { system, value };
  }
  const npi = get('npi');
  if (npi !== '') {
    if (!/^\d{10}$/.test(npi)) return refuse('npi must be 10 digits');
    if (!isValidNpi(npi)) return refuse('npi fails the NPI check digit');
    out.npi = npi;
  }
  const phoneRaw = get('phone');
  if (phoneRaw !== '') {
    const phone = /^[\d\s().+-]+$/.test(phoneRaw) ? normalizePhone(phoneRaw) : undefined;
    if (phone === undefined || phoneRaw.replace(/\D/g, '').replace(/^1/, '').length !== 10) {
      return refuse('phone must be a 10-digit number');
    }
    out.phone = phone;
  }
  return out;
}

function csvLine(err: CsvError): string {
  const line = err['lines'];
  return typeof line === 'number' ? ` at line ${line}` : '';
}

/**
 * Parses a roster upload.
 * @param text - the body, decoded; a byte-order mark is ignored.
 * @param today - `YYYY-MM-DD` no birth date may be after (the caller's clock, so this stays pure).
 * @throws RosterCsvError when the upload as a whole cannot be taken (header, syntax, limits).
 */
export function parseRosterCsv(text: string, today: string, limits: RosterLimits = {}): ParsedRoster {
  const maxRows = limits.maxRows ?? MAX_ROSTER_ROWS;
  const maxBytes = limits.maxBytes ?? MAX_ROSTER_BYTES;
  if (Buffer.byteLength(text, 'utf8') > maxBytes) {
    throw new RosterCsvError(RosterCsvErrorCode.TooLarge, `the roster is larger than ${maxBytes} bytes`);
  }
  let records: string[][];
  try {
    records = parse(text, {
      bom: true,
      trim: true,
      skip_empty_lines: true,
      relax_column_count: true,
      // One record past the limit is enough to know it is over.
      to: maxRows + 2,
    });
  } catch (err) {
    const code = (err as { code?: unknown }).code;
    if (typeof code !== 'string' || !code.startsWith('CSV_')) throw err;
    throw new RosterCsvError(
      RosterCsvErrorCode.Malformed,
      `the roster is not valid CSV${csvLine(err as CsvError)} (${code})`,
    );
  }
  const [header, ...data] = records;
  if (header === undefined) {
    throw new RosterCsvError(RosterCsvErrorCode.Header, 'the roster has no header row');
  }
  if (data.length > maxRows) {
    throw new RosterCsvError(RosterCsvErrorCode.TooLarge, `the roster has more than ${maxRows} rows`);
  }
  const columns = readHeader(header);
  const rows: RosterRow[] = [];
  const invalid: InvalidRosterRow[] = [];
  data.forEach((record, i) => {
    const row = i + 1;
    if (record.length !== columns.length) {
      invalid.push({ row, reason: `has ${record.length} fields, the header has ${columns.length}` });
      return;
    }
    const fields: Partial<Record<Column, string>> = {};
    columns.forEach((c, j) => {
      fields[c] = record[j] ?? '';
    });
    const read = readRow(row, fields, today);
    if ('reason' in read) invalid.push(read);
    else rows.push(read);
  });
  return { rows, invalid };
}
