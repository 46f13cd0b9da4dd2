/**
 * `npm run identity:thresholds`: how the identity thresholds trade precision for recall, on the
 * benchmark's synthetic population, decided in memory by the relink's own code (no database).
 * Prints one line per threshold pair; README's choice of defaults comes from this table.
 */
import { parseArgs } from 'node:util';
import { generatePopulation, type SyntheticRecord } from './bench/identity-population';
import { pairwiseQuality, type PairwiseQuality } from './bench/pairwise-quality';
import { demographicsOf } from '../identity/demographics';
import { survivorOf } from '../identity/patient-merge';
import { relinkInMemory } from '../identity/relink';
import type { JsonObject } from '../store/fhir-json';

function judge(records: readonly SyntheticRecord[], personOf: ReadonlyMap<string, string>): PairwiseQuality {
  return pairwiseQuality(
    records.map((r) => {
      const id = r.patient['id'] as string;
      return { person: personOf.get(id) ?? id, truth: r.personKey };
    }),
  );
}

function main(): void {
  const { values } = parseArgs({ options: { people: { type: 'string', default: '20000' } } });
  const population = generatePopulation({ people: Number(values.people), seed: 20261202 }).records;
  const loaded = population.map((r) => {
    const patient = r.patient as JsonObject;
    return {
      id: patient['id'] as string,
      demographics: demographicsOf(patient),
      survivor: survivorOf(patient),
    };
  });
  process.stdout.write(`${population.length} records of ${values.people} people\n`);
  process.stdout.write('link  review  precision   recall   reviews (share of records)\n');
  for (const link of [12, 16, 20, 24, 28]) {
    for (const review of [6, 10]) {
      const { assigned, reviews } = relinkInMemory(
        loaded,
        new Map(),
        { links: [], separated: new Map() },
        { thresholds: { link, review }, certainTypes: new Set(['PE', 'MB', 'MA', 'MC']) },
      );
      const q = judge(population, new Map([...assigned].map(([id, a]) => [id, a.personId])));
      process.stdout.write(
        `${String(link).padStart(4)}  ${String(review).padStart(6)}  ${(q.precision * 100).toFixed(3).padStart(8)}%  ` +
          `${(q.recall * 100).toFixed(2).padStart(6)}%  ${String(reviews.length).padStart(6)} (${((reviews.length / population.length) * 100).toFixed(1)}%)\n`,
      );
    }
  }
}

main();
