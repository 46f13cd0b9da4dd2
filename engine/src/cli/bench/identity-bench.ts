/**
 * The identity row of `npm run bench`: a synthetic population (identity-population.ts) across
 * four facilities is stored as Patients, relinked in full by `relinkAll`, and judged pairwise
 * against the generator's truth; then held-out records are linked one at a time by the
 * pipeline's `linkPatient`, timed per call in a process started like the worker
 * (identity-link-child.ts), and the whole store is judged again.
 */
import { identityRules } from '../../identity/link-patient';
import { relinkAll, type RelinkReport } from '../../identity/relink';
import { openDb, type Queryable } from '../../store/db';
import { migrate } from '../../store/migrate';
import { loadConfig } from '../../config/schema';
import { percentile } from '../simulator/latency-stats';
import type { TargetCheck } from './bench-report';
import { generatePopulation, type SyntheticRecord } from './identity-population';
import { pairwiseQuality, type PairwiseQuality } from './pairwise-quality';
import { linkInWorkerProcess } from './identity-link-child';
import { insertPatients, WARM_UP_LINKS } from './identity-link-timing';

export interface LinkQuality extends PairwiseQuality {
  readonly openReviews: number;
}

export interface IdentityBenchResult {
  readonly people: number;
  readonly records: number;
  readonly relink: RelinkReport & { readonly recordsPerSec: number; readonly totalSeconds: number };
  readonly relinkQuality: LinkQuality;
  readonly perMessage: {
    readonly count: number;
    readonly p50Ms: number;
    readonly p99Ms: number;
    readonly maxMs: number;
  };
  readonly finalQuality: LinkQuality;
  readonly thresholds: { readonly link: number; readonly review: number };
}

/** Each record's true person, by patient id. */
function truthOf(records: readonly SyntheticRecord[]): Map<string, string> {
  return new Map(records.map((r) => [r.patient['id'] as string, r.personKey]));
}

/** Pairwise precision and recall of the stored persons against the generator's truth. */
function judge(db: Queryable, records: readonly SyntheticRecord[]): Promise<LinkQuality> {
  return judgeTruth(db, truthOf(records));
}

async function judgeTruth(db: Queryable, truth: ReadonlyMap<string, string>): Promise<LinkQuality> {
  const rows = await db.query<{ patient_id: string; person_id: string }>(
    `SELECT patient_id, person_id FROM identity_records`,
  );
  const linked = new Map(rows.map((r) => [r.patient_id, r.person_id]));
  const quality = pairwiseQuality(
    [...truth].map(([id, key]) => ({ person: linked.get(id) ?? id, truth: key })),
  );
  const [open] = await db.query<{ n: string }>(
    `SELECT count(*)::text AS n FROM identity_reviews WHERE status = 'open'`,
  );
  return { ...quality, openReviews: Number(open?.n ?? 0) };
}

export async function benchIdentity(
  databaseUrl: string,
  options: { readonly people: number; readonly heldOut: number; readonly log: (line: string) => void },
): Promise<IdentityBenchResult> {
  const schema = `bench_identity_${process.pid}`;
  const config = loadConfig(process.env);
  const rules = identityRules(config.identity);
  const db = await openDb({ url: databaseUrl, schema, dataDir: 'memory://', timeoutMs: 10 * 60_000 });
  try {
    await migrate(db);
    const all: readonly SyntheticRecord[] = generatePopulation({
      people: options.people,
      seed: 20261202,
    }).records;
    // Held out: every n-th record, so they span facilities and persons.
    const step = Math.max(2, Math.floor(all.length / options.heldOut));
    const heldOut = all.filter((_r, i) => i % step === 0).slice(0, options.heldOut);
    const heldIds = new Set(heldOut.map((r) => r.patient['id']));
    const bulk = all.filter((r) => !heldIds.has(r.patient['id']));
    const recordCount = all.length;
    options.log(`  identity: ${all.length} records of ${options.people} people; storing ${bulk.length}`);
    await insertPatients(db, bulk);
    await db.query(`VACUUM ANALYZE fhir_resources`);
    options.log(`  identity: full relink of ${bulk.length} records`);
    const started = performance.now();
    const relink = await relinkAll(db, rules);
    const totalSeconds = (performance.now() - started) / 1000;
    const relinkQuality = await judge(db, bulk);
    const truth = truthOf(all);
    options.log(`  identity: linking ${heldOut.length} held-out records one message at a time`);
    const times = (await linkInWorkerProcess({ databaseUrl, schema, records: heldOut })).sort(
      (a, b) => a - b,
    );
    const finalQuality = await judgeTruth(db, truth);
    return {
      people: options.people,
      records: recordCount,
      relink: { ...relink, totalSeconds, recordsPerSec: relink.records / totalSeconds },
      relinkQuality,
      perMessage: {
        count: times.length,
        p50Ms: percentile(times, 50),
        p99Ms: percentile(times, 99),
        maxMs: times.at(-1) ?? 0,
      },
      finalQuality,
      thresholds: rules.thresholds,
    };
  } finally {
    await db.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`).catch(() => undefined);
    await db.close();
  }
}

/** The identity issue's targets. */
export const IDENTITY_TARGETS = {
  minPrecision: 0.999,
  minRecall: 0.97,
  relinkRecords: 100_000,
  maxRelinkSeconds: 60,
  maxLinkP99Ms: 5,
} as const;

/** Judges an identity run against the targets (the relink one only counts at full size). */
export function identityTargets(r: IdentityBenchResult): TargetCheck[] {
  const q = r.finalQuality;
  const pct = (x: number): string => `${(x * 100).toFixed(2)}%`;
  return [
    {
      name: 'identity pairwise precision',
      measured: pct(q.precision),
      target: `>= ${pct(IDENTITY_TARGETS.minPrecision)}`,
      pass: q.precision >= IDENTITY_TARGETS.minPrecision,
    },
    {
      name: 'identity pairwise recall',
      measured: pct(q.recall),
      target: `>= ${pct(IDENTITY_TARGETS.minRecall)}`,
      pass: q.recall >= IDENTITY_TARGETS.minRecall,
    },
    {
      name: `identity full relink of ${r.relink.records} records`,
      measured: `${r.relink.totalSeconds.toFixed(1)} s`,
      target: `< ${IDENTITY_TARGETS.maxRelinkSeconds} s at ${IDENTITY_TARGETS.relinkRecords}`,
      pass:
        r.relink.records >= IDENTITY_TARGETS.relinkRecords * 0.95 &&
        r.relink.totalSeconds < IDENTITY_TARGETS.maxRelinkSeconds,
    },
    {
      name: 'identity per-message linking p99',
      measured: `${r.perMessage.p99Ms.toFixed(2)} ms`,
      target: `< ${IDENTITY_TARGETS.maxLinkP99Ms} ms`,
      pass: r.perMessage.p99Ms < IDENTITY_TARGETS.maxLinkP99Ms,
    },
  ];
}

/** The identity section of the bench table. */
export function formatIdentity(r: IdentityBenchResult): string[] {
  const q = (label: string, x: LinkQuality): string =>
    `  ${label.padEnd(26)} precision ${(x.precision * 100).toFixed(3)}%  recall ${(x.recall * 100).toFixed(2)}%  ` +
    `(${x.correctPairs}/${x.predictedPairs} linked pairs correct, ${x.truePairs} true pairs, ${x.openReviews} open reviews)`;
  return [
    `identity: ${r.records} records of ${r.people} people at 4 facilities; link >= ${r.thresholds.link}, review >= ${r.thresholds.review} (bits)`,
    q('after full relink', r.relinkQuality),
    q('after per-message linking', r.finalQuality),
    `  full relink: ${r.relink.records} records in ${r.relink.totalSeconds.toFixed(1)} s ` +
      `(${r.relink.recordsPerSec.toFixed(0)} records/s; load ${r.relink.seconds.load.toFixed(1)} s, ` +
      `decide ${r.relink.seconds.link.toFixed(1)} s, write ${r.relink.seconds.write.toFixed(1)} s), ${r.relink.persons} persons`,
    `  per-message linking (${r.perMessage.count} records after ${WARM_UP_LINKS} untimed, one transaction each): p50 ${r.perMessage.p50Ms.toFixed(2)} ms, ` +
      `p99 ${r.perMessage.p99Ms.toFixed(2)} ms, max ${r.perMessage.maxMs.toFixed(1)} ms`,
  ];
}
