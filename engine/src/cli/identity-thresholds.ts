/**
 * `npm run identity:thresholds`: how the identity thresholds trade precision for recall, on the
 * benchmark's synthetic population, decided in memory by the relink's own code (no database).
 * Prints one line per threshold pair; README's choice of defaults comes from this table.
 */
import { parseArgs } from 'node:util';
import { generatePopulation, type SyntheticRecord } from './bench/identity-population';
import { demographicsOf } from '../identity/demographics';
import { survivorOf } from '../identity/patient-merge';
import { relinkInMemory } from '../identity/relink';
import type { JsonObject } from '../store/fhir-json';

const pairs = (n: number): number => (n * (n - 1)) / 2;

function judge(
  records: readonly SyntheticRecord[],
  personOf: ReadonlyMap<string, string>,
): { precision: number; recall: number } {
  const byPerson = new Map<string, Map<string, number>>();
  const perKey = new Map<string, number>();
  for (const r of records) {
    const id = r.patient['id'] as string;
    const person = personOf.get(id) ?? id;
    const inner = byPerson.get(person) ?? new Map<string, number>();
    inner.set(r.personKey, (inner.get(r.personKey) ?? 0) + 1);
    byPerson.set(person, inner);
    perKey.set(r.personKey, (perKey.get(r.personKey) ?? 0) + 1);
  }
  let predicted = 0;
  let correct = 0;
  for (const inner of byPerson.values()) {
    let size = 0;
    for (const n of inner.values()) {
      size += n;
      correct += pairs(n);
    }
    predicted += pairs(size);
  }
  let truth = 0;
  for (const n of perKey.values()) truth += pairs(n);
  return { precision: predicted === 0 ? 1 : correct / predicted, recall: correct / truth };
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
