/**
 * Golden mapping examples: `tests/<name>.hl7` beside the `<name>.fhir.json` it must map to. One
 * judge for `npm run mappings:test`, the unit tests and the mapping API's `POST /api/mappings/test`
 * (which runs the examples against an edited set before it is deployed).
 */
import { existsSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { parseHl7 } from '../hl7/parse-message';
import { mapMessage } from './map-message';
import type { MapResult } from './map-message';
import { isMappingError } from './mapping-error';
import type { MappingSet } from './mapping-types';

/**
 * The fixed context golden outputs are produced with, so they do not change run to run or host
 * to host: times sent without an offset are read in UTC unless the example's sender has a
 * `sender.yaml` with its own zone (as on a host with DEFAULT_TIMEZONE=UTC).
 */
export const GOLDEN_CONTEXT = { receivedAt: '2024-01-01T00:00:00Z', defaultTimezone: 'UTC' } as const;

/** One golden example and how it fared. */
export interface GoldenResult {
  readonly name: string;
  readonly status: 'pass' | 'fail' | 'updated' | 'missing';
  /** JSON paths where actual and expected differ. */
  readonly differences: readonly string[];
}

/** Names of the golden examples in a tests directory. */
export async function listGoldenCases(testsDir: string): Promise<string[]> {
  if (!existsSync(testsDir)) return [];
  return (await readdir(testsDir))
    .filter((f) => f.endsWith('.hl7'))
    .map((f) => f.slice(0, -4))
    .sort();
}

/** Maps one golden example's message; what its `.fhir.json` holds. */
export async function mapGoldenCase(testsDir: string, name: string, set: MappingSet): Promise<unknown> {
  const message = parseHl7(await readFile(path.join(testsDir, `${name}.hl7`), 'utf8'));
  const result: MapResult = mapMessage(message, set, { messageId: `golden-${name}`, ...GOLDEN_CONTEXT });
  // A stated reason without its file's name, which reads `mappings/x.yaml` or `x.yaml` by how the
  // set was loaded (directory or the mapping API's workspace).
  return result.status === 'mapped' ? result.bundle : { ignored: result.statedReason ?? result.reason };
}

/** Lists where two JSON values differ, as `$.entry[2].resource.status: "a" != "b"`. */
export function diffJson(actual: unknown, expected: unknown, at = '$', out: string[] = []): string[] {
  if (out.length >= 20) return out;
  if (
    typeof actual !== typeof expected ||
    Array.isArray(actual) !== Array.isArray(expected) ||
    actual === null ||
    expected === null ||
    typeof actual !== 'object'
  ) {
    if (JSON.stringify(actual) !== JSON.stringify(expected)) {
      out.push(`${at}: ${JSON.stringify(actual)} != expected ${JSON.stringify(expected)}`);
    }
    return out;
  }
  const a = actual as Record<string, unknown>;
  const e = expected as Record<string, unknown>;
  for (const key of new Set([...Object.keys(a), ...Object.keys(e)])) {
    diffJson(a[key], e[key], Array.isArray(actual) ? `${at}[${key}]` : `${at}.${key}`, out);
  }
  return out;
}

/**
 * Judges one example against its expected output (`missing` when it has none, `fail` when the set
 * cannot map it).
 */
export async function judgeGoldenCase(
  testsDir: string,
  name: string,
  set: MappingSet,
): Promise<GoldenResult> {
  const file = path.join(testsDir, `${name}.fhir.json`);
  if (!existsSync(file)) {
    return { name, status: 'missing', differences: [`${name}.fhir.json does not exist (run with --update)`] };
  }
  let actual: unknown;
  try {
    actual = await mapGoldenCase(testsDir, name, set);
  } catch (err) {
    // A set that cannot map an example fails that example; the others are still judged.
    if (!isMappingError(err)) throw err;
    return { name, status: 'fail', differences: [`mapping failed: ${err.message}`] };
  }
  const differences = diffJson(actual, JSON.parse(await readFile(file, 'utf8')));
  return { name, status: differences.length === 0 ? 'pass' : 'fail', differences };
}

/** Judges every example of a tests directory. */
export async function judgeGoldenCases(testsDir: string, set: MappingSet): Promise<GoldenResult[]> {
  const results: GoldenResult[] = [];
  for (const name of await listGoldenCases(testsDir)) {
    results.push(await judgeGoldenCase(testsDir, name, set));
  }
  return results;
}
