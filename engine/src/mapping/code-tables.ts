/**
 * Code tables: CSV files (`code,system,target,display`) that translate a sender's code into a
 * FHIR code. Kept as data so analysts add a local code without touching TypeScript.
 */

/** One translation row. */
export interface CodeTableRow {
  readonly code: string;
  /** System of the target code, e.g. `http://hl7.org/fhir/administrative-gender`. */
  readonly system: string;
  readonly target: string;
  readonly display?: string;
}

/** A table of translations keyed by source code. */
export interface CodeTable {
  readonly name: string;
  readonly file: string;
  lookup(code: string): CodeTableRow | undefined;
}

/** A CSV problem, with the 1-based line it is on. */
export interface CodeTableProblem {
  readonly line: number;
  readonly message: string;
}

const HEADER = ['code', 'system', 'target', 'display'];

/** Parses a code table; problems are returned rather than thrown so the loader can list them all. */
export function parseCodeTable(
  name: string,
  file: string,
  text: string,
): { table: CodeTable; problems: CodeTableProblem[] } {
  const rows = new Map<string, CodeTableRow>();
  const upper = new Map<string, CodeTableRow>();
  const problems: CodeTableProblem[] = [];
  const lines = text.split(/\r\n|\r|\n/);
  const header = parseCsvLine(lines[0] ?? '').map((h) => h.trim().toLowerCase());
  if (HEADER.some((h, i) => header[i] !== h)) {
    problems.push({ line: 1, message: `header must be "${HEADER.join(',')}", got "${lines[0] ?? ''}"` });
  }
  lines.slice(1).forEach((line, i) => {
    if (line.trim() === '' || line.startsWith('#')) return;
    const [code = '', system = '', target = '', display = ''] = parseCsvLine(line);
    if (code === '' || target === '') {
      problems.push({ line: i + 2, message: 'code and target are required' });
      return;
    }
    if (rows.has(code)) problems.push({ line: i + 2, message: `code "${code}" appears twice` });
    const row: CodeTableRow = { code, system, target, ...(display !== '' ? { display } : {}) };
    rows.set(code, row);
    if (!upper.has(code.toUpperCase())) upper.set(code.toUpperCase(), row);
  });
  const lookup = (code: string): CodeTableRow | undefined => rows.get(code) ?? upper.get(code.toUpperCase());
  return { table: { name, file, lookup }, problems };
}

/** Splits one CSV line (RFC 4180 quoting, no embedded newlines). */
export function parseCsvLine(line: string): string[] {
  const out: string[] = [];
  let cur = '';
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const ch = line.charAt(i);
    if (quoted) {
      if (ch === '"' && line.charAt(i + 1) === '"') {
        cur += '"';
        i++;
      } else if (ch === '"') quoted = false;
      else cur += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ',') {
      out.push(cur);
      cur = '';
    } else cur += ch;
  }
  out.push(cur);
  return out;
}

/** Quotes a CSV cell when it needs it. */
export function csvCell(v: string): string {
  return /[",\n]/.test(v) ? `"${v.replaceAll('"', '""')}"` : v;
}
