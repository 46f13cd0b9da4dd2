/**
 * The analysts' table of result interpretations that notify a PCP (`notify/result-flags.csv` in
 * the mappings directory, `code,system,target,display` with target `critical` or `abnormal`).
 * Data, like the code tables: a practice that wants abnormal results too adds `H` and `L` rows.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseCodeTable, type CodeTable, type CodeTableProblem } from '../mapping/code-tables';
import { DEFAULT_RESULT_FLAGS, type ResultFlags } from './derive-events';

export const RESULT_FLAGS_FILE = 'notify/result-flags.csv';

/** Reads the table; absent means the default (HH, LL, AA). Throws listing every bad line. */
export async function loadResultFlags(mappingsDir: string): Promise<ResultFlags> {
  let text: string;
  try {
    text = await readFile(join(mappingsDir, RESULT_FLAGS_FILE), 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return DEFAULT_RESULT_FLAGS;
    throw err;
  }
  return parseResultFlags(text);
}

/** Every problem in a result-flags table, with its line (empty when the table is good). */
export function resultFlagProblems(text: string): CodeTableProblem[] {
  return checkResultFlags(text).problems;
}

function checkResultFlags(text: string): { table: CodeTable; problems: CodeTableProblem[] } {
  const { table, problems } = parseCodeTable('result-flags', RESULT_FLAGS_FILE, text);
  const rows = text
    .split(/\r\n|\r|\n/)
    .slice(1)
    .map((line, i) => ({ line: i + 2, code: line.split(',')[0]?.trim() ?? '', raw: line }))
    .filter((r) => r.code !== '' && !r.raw.startsWith('#'));
  for (const r of rows) {
    const target = table.lookup(r.code)?.target;
    if (target !== undefined && target !== 'critical' && target !== 'abnormal') {
      problems.push({ line: r.line, message: `target must be critical or abnormal, got "${target}"` });
    }
  }
  return { table, problems };
}

export function parseResultFlags(text: string): ResultFlags {
  const { table, problems } = checkResultFlags(text);
  if (problems.length > 0) {
    throw new Error(
      `${RESULT_FLAGS_FILE}: ${problems.map((p) => `line ${p.line}: ${p.message}`).join('; ')}`,
    );
  }
  return {
    flag(system, code) {
      const row = table.lookup(code);
      if (row === undefined || (system !== undefined && row.system !== '' && row.system !== system)) {
        return undefined;
      }
      return row.target === 'critical' || row.target === 'abnormal' ? row.target : undefined;
    },
  };
}
