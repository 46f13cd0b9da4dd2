/**
 * `npm run mappings:test [-- --update] [--mappings DIR]`: maps every golden example in
 * mappings/tests and diffs it against its expected Bundle; exit 1 on any difference.
 */
import path from 'node:path';
import { parseArgs } from 'node:util';
import { loadMappingSet } from '../mapping/load-mappings';
import { isMappingLoadError } from '../mapping/mapping-error';
import { runGoldenTests } from './golden-cases';

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      update: { type: 'boolean', default: false },
      mappings: { type: 'string', default: 'mappings' },
    },
  });
  const set = await loadMappingSet(values.mappings);
  const results = await runGoldenTests(path.join(values.mappings, 'tests'), set, values.update);
  for (const r of results) {
    console.log(`${r.status.padEnd(7)} ${r.name}`);
    for (const d of r.differences) console.log(`        ${d}`);
  }
  const failed = results.filter((r) => r.status === 'fail' || r.status === 'missing').length;
  console.log(`${results.length} golden example(s), ${failed} failed (mappings ${set.version})`);
  return failed > 0 ? 1 : 0;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    console.error(isMappingLoadError(err) ? err.message : err);
    process.exitCode = 1;
  },
);
