/**
 * Golden mapping examples for `npm run mappings:test`: the judge lives in
 * mapping/golden-examples.ts (the mapping API runs it too); this adds `--update`, which rewrites
 * the expected outputs as Prettier would format them.
 */
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { format, resolveConfig } from 'prettier';
import {
  judgeGoldenCase,
  listGoldenCases,
  mapGoldenCase,
  type GoldenResult,
} from '../mapping/golden-examples';
import type { MappingSet } from '../mapping/mapping-types';

export {
  diffJson,
  GOLDEN_CONTEXT,
  listGoldenCases,
  mapGoldenCase,
  type GoldenResult,
} from '../mapping/golden-examples';

/** Runs every golden example; with `update`, rewrites the expected outputs instead of comparing. */
export async function runGoldenTests(
  testsDir: string,
  set: MappingSet,
  update = false,
): Promise<GoldenResult[]> {
  const results: GoldenResult[] = [];
  for (const name of await listGoldenCases(testsDir)) {
    if (!update) {
      results.push(await judgeGoldenCase(testsDir, name, set));
      continue;
    }
    const actual = await mapGoldenCase(testsDir, name, set);
    const file = path.join(testsDir, `${name}.fhir.json`);
    // Written as Prettier would, so `npm run lint` accepts regenerated examples as they are.
    const options = (await resolveConfig(file)) ?? {};
    await writeFile(file, await format(JSON.stringify(actual), { ...options, parser: 'json' }));
    results.push({ name, status: 'updated', differences: [] });
  }
  return results;
}
