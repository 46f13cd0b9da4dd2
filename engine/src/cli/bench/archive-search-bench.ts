/**
 * The archive-search part of `npm run bench`: a million archived messages seeded into a fresh
 * PostgreSQL schema (archive-seed.ts), then an analyst's four searches timed through
 * `findMessages`, the code path of `GET /api/messages`, on a pool opened as the engine opens its
 * own (generic plans): by MRN, by patient name prefix, by control ID, and by status + sender +
 * a week's date range. Each search's generic plan is recorded, so a regression names its index.
 */
import { openDb, type Db, type Queryable } from '../../store/db';
import { migrate } from '../../store/migrate';
import { findMessages, type MessageFilter } from '../../store/message-query';
import type { MessageStatus } from '../../store/message-archive';
import { percentile } from '../simulator/latency-stats';
import { seedArchive, SEED_DAYS, type SeededArchive } from './archive-seed';
import type { TargetCheck } from './bench-report';

export const ARCHIVE_SEARCHES = ['mrn', 'name', 'control-id', 'status-sender-range'] as const;
export type ArchiveSearch = (typeof ARCHIVE_SEARCHES)[number];

export interface ArchiveSearchTiming {
  readonly search: ArchiveSearch;
  readonly queries: number;
  readonly p50Ms: number;
  readonly p95Ms: number;
  readonly maxMs: number;
  /** Messages returned per query on average (a page is at most `PAGE`). */
  readonly meanHits: number;
  /** Indexes the generic plan of the first query reads. */
  readonly indexes: readonly string[];
  /** That plan, as EXPLAIN prints it. */
  readonly plan: readonly string[];
}

export interface ArchiveSearchResult {
  readonly seed: SeededArchive;
  readonly timings: readonly ArchiveSearchTiming[];
}

export interface ArchiveSearchOptions {
  readonly rows: number;
  /** Timed queries per search. @defaultValue 200 */
  readonly queries?: number;
  readonly log: (line: string) => void;
}

/** The API's default page. */
const PAGE = 100;
/** Untimed queries per search first: connections, catalog caches. */
const WARM_UP = 20;
export const ARCHIVE_TARGET_P95_MS = 200;

const DAY_MS = 86_400_000;
const RANGE_STATUSES: readonly MessageStatus[] = ['failed', 'processed', 'ignored'];

interface Sample {
  readonly mrn: string;
  readonly name: string;
  readonly controlId: string;
  readonly facility: string;
}

/** Values of random existing rows, so every search asks for something the archive holds. */
async function sampleRows(db: Queryable, rows: number, n: number): Promise<Sample[]> {
  const ids = Array.from({ length: n }, () => String(1 + Math.floor(Math.random() * rows)));
  const found = await db.query<{ mrn: string; name: string; control_id: string; sending_facility: string }>(
    `SELECT split_part(patient_key, '|', 2) AS mrn, patient_name AS name, control_id, sending_facility
       FROM messages WHERE id = ANY($1::bigint[]) AND patient_name IS NOT NULL`,
    [ids],
  );
  return found.map((r) => ({
    mrn: r.mrn,
    name: r.name,
    controlId: r.control_id,
    facility: r.sending_facility,
  }));
}

/** As an analyst types it: `Jiménez` as shown, or `jimenez, ma` without accent or case. */
function nameQuery(display: string, i: number): string {
  const [family = '', given = ''] = display.split(', ');
  if (i % 2 === 0) return family;
  return `${family.normalize('NFKD').replace(/\p{M}/gu, '').toLowerCase()}, ${given.slice(0, 2).toLowerCase()}`;
}

function filterFor(search: ArchiveSearch, s: Sample, i: number): MessageFilter {
  switch (search) {
    case 'mrn':
      return { patient: s.mrn, count: PAGE };
    case 'name':
      return { name: nameQuery(s.name, i), count: PAGE };
    case 'control-id':
      return { controlId: s.controlId, count: PAGE };
    case 'status-sender-range': {
      const start = Date.now() - (SEED_DAYS - 7) * DAY_MS * Math.random() - 7 * DAY_MS;
      return {
        sender: s.facility,
        status: RANGE_STATUSES[i % RANGE_STATUSES.length] ?? 'failed',
        since: new Date(start),
        until: new Date(start + 7 * DAY_MS),
        count: PAGE,
      };
    }
  }
}

/** A parameter of findMessages' statement (text, a number or a Date) as an SQL literal. */
function sqlLiteral(v: unknown): string {
  if (v === null || v === undefined) return 'NULL';
  if (typeof v === 'number') return String(v);
  if (v instanceof Date) return `'${v.toISOString()}'`;
  if (typeof v === 'string') return `'${v.replaceAll("'", "''")}'`;
  throw new TypeError(`no SQL literal for a ${typeof v} parameter`);
}

/**
 * The generic plan of the statement `findMessages` sends for `filter`: prepared and explained on
 * one pooled connection, which plans as the engine's do (db.ts sets `force_generic_plan`).
 */
async function genericPlan(db: Db, filter: MessageFilter): Promise<string[]> {
  return db.transaction(async (tx) => {
    let plan: string[] = [];
    const explaining: Queryable = {
      async query<R extends object>(sql: string, params: readonly unknown[] = []): Promise<R[]> {
        await tx.query(`PREPARE bench_archive_search AS ${sql}`);
        const rows = await tx.query<{ 'QUERY PLAN': string }>(
          `EXPLAIN EXECUTE bench_archive_search(${params.map(sqlLiteral).join(', ')})`,
        );
        plan = rows.map((r) => r['QUERY PLAN']);
        await tx.query('DEALLOCATE bench_archive_search');
        return [];
      },
      exec: (sql) => tx.exec(sql),
    };
    await findMessages(explaining, filter);
    return plan;
  });
}

async function timeSearch(
  db: Db,
  search: ArchiveSearch,
  samples: readonly Sample[],
  queries: number,
): Promise<ArchiveSearchTiming> {
  const pick = (i: number): Sample => samples[i % samples.length] as Sample;
  for (let i = 0; i < WARM_UP; i++) await findMessages(db, filterFor(search, pick(i), i));
  const times: number[] = [];
  let hits = 0;
  for (let i = 0; i < queries; i++) {
    const filter = filterFor(search, pick(WARM_UP + i), i);
    const t = performance.now();
    const page = await findMessages(db, filter);
    times.push(performance.now() - t);
    hits += page.messages.length;
  }
  times.sort((a, b) => a - b);
  const plan = await genericPlan(db, filterFor(search, pick(0), 1));
  const indexes = [
    ...new Set(
      plan.flatMap((l) => [...l.matchAll(/(?: using|Bitmap Index Scan on) (\w+)/g)].map((m) => m[1] ?? '')),
    ),
  ];
  return {
    search,
    queries,
    p50Ms: percentile(times, 50),
    p95Ms: percentile(times, 95),
    maxMs: times.at(-1) ?? 0,
    meanHits: queries === 0 ? 0 : hits / queries,
    indexes,
    plan,
  };
}

export async function benchArchiveSearch(
  databaseUrl: string,
  options: ArchiveSearchOptions,
): Promise<ArchiveSearchResult> {
  const schema = `bench_archive_${process.pid}`;
  const db = await openDb({ url: databaseUrl, schema, dataDir: 'memory://', timeoutMs: 10 * 60_000 });
  try {
    await db.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    await db.query(`CREATE SCHEMA ${schema}`);
    await migrate(db);
    options.log(`  archive: seeding ${options.rows} messages into ${schema}`);
    const seed = await seedArchive(db, { rows: options.rows, log: options.log });
    options.log(
      `  archive: seeded in ${seed.seedSeconds.toFixed(1)} s, VACUUM ANALYZE ${seed.analyzeSeconds.toFixed(1)} s`,
    );
    const queries = options.queries ?? 200;
    const samples = await sampleRows(db, options.rows, queries + WARM_UP);
    const timings: ArchiveSearchTiming[] = [];
    for (const search of ARCHIVE_SEARCHES) {
      options.log(`  archive: ${queries} searches by ${search}`);
      timings.push(await timeSearch(db, search, samples, queries));
    }
    return { seed, timings };
  } finally {
    await db.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`).catch(() => undefined);
    await db.close();
  }
}

const LABELS: Readonly<Record<ArchiveSearch, string>> = {
  mrn: 'by MRN',
  name: 'by patient name prefix',
  'control-id': 'by control ID',
  'status-sender-range': 'by status + sender + 7-day range',
};

/** p95 under the target for each search. */
export function archiveTargets(r: ArchiveSearchResult): TargetCheck[] {
  return r.timings.map((t) => ({
    name: `archive search ${LABELS[t.search]}, p95`,
    measured: `${t.p95Ms.toFixed(1)} ms at ${r.seed.rows}`,
    target: `< ${ARCHIVE_TARGET_P95_MS} ms at 1000000`,
    pass: t.p95Ms < ARCHIVE_TARGET_P95_MS,
  }));
}

/** The archive section of the bench table. */
export function formatArchive(r: ArchiveSearchResult): string[] {
  const w = [36, 9, 9, 9, 9, 0];
  const row = (cells: readonly string[]): string =>
    cells
      .map((c, i) => (i === 0 || i === cells.length - 1 ? c.padEnd(w[i] ?? 0) : c.padStart(w[i] ?? 0)))
      .join('  ');
  return [
    `archive search: ${r.seed.rows} messages, ${r.seed.patients} patients, ${r.seed.facilities} senders, ` +
      `${r.seed.days} days (seeded in ${r.seed.seedSeconds.toFixed(0)} s)`,
    row(['search', 'p50 ms', 'p95 ms', 'max ms', 'hits', 'index (generic plan)']),
    ...r.timings.map((t) =>
      row([
        LABELS[t.search],
        t.p50Ms.toFixed(2),
        t.p95Ms.toFixed(2),
        t.maxMs.toFixed(1),
        t.meanHits.toFixed(1),
        t.indexes.join(', '),
      ]),
    ),
  ];
}
