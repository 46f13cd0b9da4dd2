/**
 * `npm run bench`: how fast the engine accepts HL7 over MLLP on this machine (real PostgreSQL and
 * Redis), next to a floor server that only archives, queues and ACKs (and, as a control, that floor
 * again with an engine's worker processing a backlog beside it); ACK latency at 1,000 msg/s;
 * the engine's memory with a large backlog; and identity linking's accuracy and speed on a
 * synthetic population; and how long a PCP waits for an admission notice at 200 ADT/s; and the
 * SMART app's first render of a 500-event timeline and its bundle size; and archive search p50/p95
 * on 1,000,000 seeded messages; and the mapping dry run's throughput over 10,000 archived messages.
 * Prints a table and writes bench-results/*.json. `--only mllp`, `--only identity`,
 * `--only notify`, `--only app`, `--only archive` or `--only dry-run` runs one part.
 */
import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import {
  evaluateTargets,
  formatBenchTable,
  writeBenchJson,
  type BacklogResult,
  type BenchRow,
  type ThroughputRow,
} from './bench/bench-report';
import { startBenchTarget, waitForDrain, type BenchEnv, type BenchTarget } from './bench/bench-target';
import {
  benchIdentity,
  formatIdentity,
  identityTargets,
  type IdentityBenchResult,
} from './bench/identity-bench';
import { appTargets, benchApp, formatApp, type AppBenchResult } from './bench/app-bench';
import {
  archiveTargets,
  benchArchiveSearch,
  formatArchive,
  type ArchiveSearchResult,
} from './bench/archive-search-bench';
import { benchDryRun, formatDryRun, type DryRunBenchResult } from './bench/dry-run-bench';
import { runLoadPhase, type LoadResult } from './bench/load-runner';
import { measureFloorBesideProcessing } from './bench/floor-beside-processing';
import { benchNotify, formatNotify, notifyTargets, type NotifyBenchResult } from './bench/notify-bench';
import { currentRss, startRssSampler } from './bench/rss-sampler';

interface BenchSizes {
  readonly warmup: number;
  readonly one: number;
  readonly eight: number;
  readonly pacedSeconds: number;
  readonly backlog: number;
  /** Messages queued for the worker that runs beside the floor's control phases. */
  readonly besideBacklog: number;
  readonly backlogMaxSeconds: number;
  readonly drainMs: number;
  readonly identityPeople: number;
  readonly identityHeldOut: number;
  readonly notifySeconds: number;
  /** A01s of the notify part's drain phase (processing capacity and cost per admission). */
  readonly notifyDrain: number;
  /** Messages seeded for the archive-search part. */
  readonly archiveRows: number;
  /** Archived messages the dry-run part maps. */
  readonly dryRunMessages: number;
}

const MB = 1024 * 1024;
const log = (line: string): boolean => process.stderr.write(`${line}\n`);

const BENCH_PARTS = ['mllp', 'identity', 'notify', 'app', 'archive', 'dry-run'] as const;
type BenchPart = (typeof BENCH_PARTS)[number];

function isBenchPart(s: string): s is BenchPart {
  return (BENCH_PARTS as readonly string[]).includes(s);
}

function readSizes(argv: readonly string[]): {
  sizes: BenchSizes;
  quick: boolean;
  outDir: string;
  parts: ReadonlySet<BenchPart>;
} {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      quick: { type: 'boolean', default: false },
      backlog: { type: 'string' },
      out: { type: 'string', default: 'bench-results' },
      only: { type: 'string' },
    },
  });
  if (values.only !== undefined && !isBenchPart(values.only)) {
    throw new Error(`--only must be one of ${BENCH_PARTS.join(', ')}`);
  }
  const parts = new Set<BenchPart>(values.only === undefined ? BENCH_PARTS : [values.only]);
  const backlog = values.backlog === undefined ? undefined : Number(values.backlog);
  if (backlog !== undefined && !(Number.isInteger(backlog) && backlog >= 1 && backlog <= 10_000_000)) {
    throw new Error('--backlog must be an integer from 1 to 10000000');
  }
  const sizes: BenchSizes = values.quick
    ? {
        warmup: 100,
        one: 300,
        eight: 1500,
        pacedSeconds: 3,
        backlog: backlog ?? 5000,
        besideBacklog: 1000,
        backlogMaxSeconds: 300,
        drainMs: 15_000,
        identityPeople: 4_000,
        identityHeldOut: 500,
        notifySeconds: 10,
        notifyDrain: 500,
        archiveRows: 100_000,
        dryRunMessages: 1_000,
      }
    : {
        warmup: 400,
        one: 3000,
        eight: 12_000,
        pacedSeconds: 10,
        backlog: backlog ?? 100_000,
        besideBacklog: 4000,
        backlogMaxSeconds: 1800,
        drainMs: 120_000,
        // About 2.5 records a person: 100,000 records, 2,000 of them held out for per-message timing.
        identityPeople: 40_800,
        identityHeldOut: 2_000,
        notifySeconds: 60,
        notifyDrain: 2000,
        archiveRows: 1_000_000,
        dryRunMessages: 10_000,
      };
  return { sizes, quick: values.quick, outDir: values.out, parts };
}

function toRow(
  server: ThroughputRow['server'],
  phase: ThroughputRow['phase'],
  r: LoadResult,
  rate: number,
  connections: number,
): ThroughputRow {
  const accepted = r.ackCodes['AA'] ?? 0;
  return {
    server,
    phase,
    connections,
    rate,
    accepted,
    notAccepted: r.sent - accepted,
    msgPerSec: r.elapsedSec > 0 ? accepted / r.elapsedSec : 0,
    p50Ms: r.latency.p50,
    p99Ms: r.latency.p99,
    maxMs: r.latency.max,
    seconds: r.elapsedSec,
  };
}

/** Throughput on 1 and 8 connections, then p99 at a paced 1,000 msg/s, against one target. */
async function measureTarget(target: BenchTarget, sizes: BenchSizes): Promise<ThroughputRow[]> {
  const phase = (connections: number, rate: number, count: number, seed: string): Promise<LoadResult> =>
    runLoadPhase({ port: target.port, connections, rate, count, seed });
  await phase(8, 0, sizes.warmup, 'bench-warmup');
  const rows: ThroughputRow[] = [];
  log(`  ${target.kind}: 1 connection, ${sizes.one} messages`);
  rows.push(toRow(target.kind, 'one-connection', await phase(1, 0, sizes.one, 'bench-one'), 0, 1));
  log(`  ${target.kind}: 8 connections, ${sizes.eight} messages`);
  rows.push(toRow(target.kind, 'eight-connections', await phase(8, 0, sizes.eight, 'bench-eight'), 0, 8));
  // The engine's workers are still mapping the burst: start the paced phase from an empty queue so
  // it measures steady state. The floor has no workers, so its queue only grows.
  if (target.kind === 'engine' && !(await waitForDrain(target, sizes.drainMs))) {
    log(`  engine: queue not drained after ${sizes.drainMs} ms, continuing`);
  }
  log(`  ${target.kind}: paced 1000/s for ${sizes.pacedSeconds} s on 8 connections`);
  rows.push(
    toRow(target.kind, 'paced-1000', await phase(8, 1000, 1000 * sizes.pacedSeconds, 'bench-paced'), 1000, 8),
  );
  return rows;
}

/**
 * Ingest without workers, so every message stays queued; RSS sampled throughout. Ingest runs in a
 * process of its own (`ENGINE_ROLE=ingest`), so what is measured is the engine's memory, not the
 * benchmark's modules and load bookkeeping beside it.
 */
async function measureBacklog(
  env: BenchEnv,
  sizes: BenchSizes,
): Promise<{ backlog: BacklogResult; row: ThroughputRow }> {
  const target = await startBenchTarget('engine', env, { workers: false, ingestProcess: true });
  const pid = target.pid;
  if (pid === undefined) throw new Error('the ingest process has no pid');
  try {
    const baseline = currentRss(pid);
    const sampler = startRssSampler(pid);
    log(`  engine (workers off): sending ${sizes.backlog} messages on 8 connections`);
    const r = await runLoadPhase({
      port: target.port,
      connections: 8,
      rate: 0,
      count: sizes.backlog,
      seed: 'bench-backlog',
      maxSeconds: sizes.backlogMaxSeconds,
    });
    const queued = await target.pendingJobs();
    // Let the backlog sit: buffers freed or kept after the burst show up now.
    await new Promise((resolve) => setTimeout(resolve, 3000));
    const end = currentRss(pid);
    const peak = sampler.stop();
    const backlog: BacklogResult = {
      requested: sizes.backlog,
      accepted: r.ackCodes['AA'] ?? 0,
      queued,
      sendSeconds: r.elapsedSec,
      baselineRssMb: baseline / MB,
      peakRssMb: peak / MB,
      endRssMb: end / MB,
    };
    // The same send is also the engine's ingest throughput without workers competing for CPU.
    return { backlog, row: toRow('engine-no-workers', 'eight-connections', r, 0, 8) };
  } finally {
    await target.close();
  }
}

async function loadMappingRows(): Promise<BenchRow[]> {
  const file = fileURLToPath(new URL('./bench-mapping.ts', import.meta.url));
  if (!existsSync(file)) return [];
  log('mapping benchmark (bench-mapping.ts)');
  const mod = (await import(file)) as { benchMapping?: () => Promise<BenchRow[]> };
  return mod.benchMapping === undefined ? [] : mod.benchMapping();
}

async function main(): Promise<void> {
  const { sizes, quick, outDir, parts } = readSizes(process.argv.slice(2));
  const env: BenchEnv = {
    databaseUrl: process.env['DATABASE_URL'] ?? 'postgres://postgres@127.0.0.1:5432/test',
    redisUrl: process.env['REDIS_URL'] ?? 'redis://127.0.0.1:6379',
    mappingsDir: fileURLToPath(new URL('../../../mappings', import.meta.url)),
  };
  const startedAt = new Date().toISOString();
  log(
    `bench${quick ? ' --quick' : ''}: PostgreSQL ${new URL(env.databaseUrl).host}, Redis ${new URL(env.redisUrl).host}, ${availableParallelism()} CPUs`,
  );
  log(
    '(the load generator runs in a child process on the same CPUs, as it would for any sender on this machine)',
  );
  const rows: ThroughputRow[] = [];
  let backlog: BacklogResult | undefined;
  let besideBacklogLeft: number | undefined;
  if (parts.has('mllp')) {
    // The backlog run goes first, while this process holds nothing but the engine under test.
    const measured = await measureBacklog(env, sizes);
    backlog = measured.backlog;
    for (const kind of ['floor', 'engine'] as const) {
      const target = await startBenchTarget(kind, env);
      try {
        rows.push(...(await measureTarget(target, sizes)));
      } finally {
        await target.close();
      }
    }
    rows.push(measured.row);
    const beside = await measureFloorBesideProcessing(
      env,
      { warmup: sizes.warmup, one: sizes.one, eight: sizes.eight, backlog: sizes.besideBacklog },
      log,
    );
    rows.push(
      toRow('floor-beside-processing', 'one-connection', beside.one, 0, 1),
      toRow('floor-beside-processing', 'eight-connections', beside.eight, 0, 8),
    );
    besideBacklogLeft = beside.backlogLeft;
  }
  const mapping = parts.has('mllp') ? await loadMappingRows() : [];
  let identity: IdentityBenchResult | undefined;
  if (parts.has('identity')) {
    log('identity benchmark');
    identity = await benchIdentity(env.databaseUrl, {
      people: sizes.identityPeople,
      heldOut: sizes.identityHeldOut,
      log,
    });
  }
  let notify: NotifyBenchResult | undefined;
  if (parts.has('notify')) {
    log('notification latency benchmark');
    notify = await benchNotify(env, { seconds: sizes.notifySeconds, drainCount: sizes.notifyDrain, log });
  }
  let app: AppBenchResult | undefined;
  if (parts.has('app')) {
    log('SMART app benchmark');
    app = await benchApp(env, { runs: quick ? 3 : 5, log });
  }
  let archive: ArchiveSearchResult | undefined;
  if (parts.has('archive')) {
    log('archive search benchmark');
    archive = await benchArchiveSearch(env.databaseUrl, { rows: sizes.archiveRows, log });
  }
  let dryRun: DryRunBenchResult | undefined;
  if (parts.has('dry-run')) {
    log('mapping dry-run benchmark');
    dryRun = await benchDryRun(env.databaseUrl, {
      messages: sizes.dryRunMessages,
      mappingsDir: env.mappingsDir,
      log,
    });
  }
  const results = {
    startedAt,
    quick,
    machine: {
      cpus: availableParallelism(),
      node: process.version,
      platform: `${process.platform}-${process.arch}`,
    },
    rows,
    ...(backlog !== undefined ? { backlog } : {}),
    ...(besideBacklogLeft !== undefined ? { besideBacklogLeft } : {}),
    mapping,
    ...(identity !== undefined ? { identity, identityLines: formatIdentity(identity) } : {}),
    ...(notify !== undefined ? { notify, notifyLines: formatNotify(notify) } : {}),
    ...(app !== undefined ? { app, appLines: formatApp(app) } : {}),
    ...(archive !== undefined ? { archive, archiveLines: formatArchive(archive) } : {}),
    ...(dryRun !== undefined ? { dryRun, dryRunLines: formatDryRun(dryRun) } : {}),
    targets: [
      ...(parts.has('mllp') ? evaluateTargets(rows, backlog, sizes.backlog) : []),
      ...(identity !== undefined ? identityTargets(identity) : []),
      ...(notify !== undefined ? notifyTargets(notify) : []),
      ...(app !== undefined ? appTargets(app) : []),
      ...(archive !== undefined ? archiveTargets(archive) : []),
    ],
  };
  process.stdout.write(`\n${formatBenchTable(results)}\n`);
  if (quick) {
    process.stdout.write(
      '(--quick: smaller phases; the RSS target assumes a 100,000-message backlog; notify sends for 10 s, not 60;' +
        ' archive search seeds 100,000 messages, not 1,000,000; the dry run maps 1,000, not 10,000)\n',
    );
  }
  process.stdout.write(`\nwrote ${writeBenchJson(results, outDir)}\n`);
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(
      `bench failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`,
    );
    process.exit(1);
  },
);
