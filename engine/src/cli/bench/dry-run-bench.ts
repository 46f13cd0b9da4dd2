/**
 * The dry-run part of `npm run bench`: how fast the mapping workbench's dry run goes over a
 * sender's last 10,000 archived messages. The golden examples (ADT of every event, ORU, a sender
 * override) are copied, each with its own MSH-10, straight into a fresh schema's archive (SQL,
 * not MLLP), then the dry-run core reads them back a page at a time and maps each with the
 * deployed set and with a small edit (Patient.active false), comparing the two outputs.
 */
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { dryRunMessages } from '../../pipeline/dry-run-messages';
import { dryRunMappings } from '../../pipeline/mapping-dry-run';
import { createMappingWorkspace, overlayTexts } from '../../pipeline/mapping-workspace';
import { openDb, type Db } from '../../store/db';
import { migrate } from '../../store/migrate';
import { startRssSampler } from './rss-sampler';

export interface DryRunBenchOptions {
  readonly messages: number;
  readonly mappingsDir: string;
  readonly log: (line: string) => void;
}

export interface DryRunBenchResult {
  readonly messages: number;
  /** Distinct example messages the archive was seeded from. */
  readonly examples: number;
  readonly seedSeconds: number;
  /** Compiling the deployed and the edited set (once each). */
  readonly compileSeconds: number;
  /** Reading, decoding, mapping twice and comparing every message. */
  readonly seconds: number;
  readonly messagesPerSec: number;
  readonly summary: { readonly changed: number; readonly unchanged: number; readonly failed: number };
  readonly baselineRssMb: number;
  readonly peakRssMb: number;
}

/** The sender every seeded row is filed under (the raw MSH-4 stays as the example has it). */
const BENCH_SENDER = 'BENCH-DRYRUN';
const MB = 1024 * 1024;
const SEED_BATCH = 1_000;

/** The example with MSH-10 replaced, so every row is its own message. */
function withControlId(text: string, controlId: string): string {
  const [msh = '', ...rest] = text.split(/\r\n|\r|\n/).filter((s) => s !== '');
  const sep = msh.charAt(3);
  const fields = msh.split(sep);
  // fields[0] is "MSH" and fields[1] MSH-2, so MSH-10 is fields[9].
  fields[9] = controlId;
  return [fields.join(sep), ...rest].join('\r');
}

async function readExamples(mappingsDir: string): Promise<string[]> {
  const testsDir = path.join(mappingsDir, 'tests');
  const names = (await readdir(testsDir)).filter((f) => f.endsWith('.hl7')).sort();
  return Promise.all(names.map((n) => readFile(path.join(testsDir, n), 'utf8')));
}

async function seed(db: Db, examples: readonly string[], count: number): Promise<void> {
  for (let from = 0; from < count; from += SEED_BATCH) {
    const n = Math.min(SEED_BATCH, count - from);
    const controlIds = Array.from({ length: n }, (_v, i) => `DRY-${from + i + 1}`);
    const raws = controlIds.map((c, i) =>
      Buffer.from(withControlId(examples[(from + i) % examples.length] ?? '', c), 'utf8'),
    );
    await db.query(
      `INSERT INTO messages (sender, sending_app, sending_facility, control_id, raw, content_hash, status)
       SELECT 'BENCH^' || $1::text, 'BENCH', $1::text, c, r, hl7_content_hash(r), 'processed'
         FROM unnest($2::text[], $3::bytea[]) AS m(c, r)`,
      [BENCH_SENDER, controlIds, raws],
    );
  }
}

/** Seeds, runs one dry run over every seeded message, and drops the schema. */
export async function benchDryRun(databaseUrl: string, o: DryRunBenchOptions): Promise<DryRunBenchResult> {
  const schema = `bench_dry_run_${process.pid}`;
  const db = await openDb({ url: databaseUrl, schema, dataDir: 'memory://', timeoutMs: 10 * 60_000 });
  try {
    await migrate(db);
    const examples = await readExamples(o.mappingsDir);
    o.log(`  dry run: seeding ${o.messages} archived messages from ${examples.length} golden examples`);
    let t = performance.now();
    await seed(db, examples, o.messages);
    await db.query(`ANALYZE messages`);
    const seedSeconds = (performance.now() - t) / 1000;

    const workspace = createMappingWorkspace(o.mappingsDir);
    t = performance.now();
    const texts = await workspace.deployedTexts();
    const patient = texts.get('rules/patient.yaml') ?? '';
    const deployed = await workspace.compile(texts);
    const candidate = await workspace.compile(
      overlayTexts(
        texts,
        new Map([
          ['rules/patient.yaml', patient.replace('active: { value: true }', 'active: { value: false }')],
        ]),
      ),
    );
    const compileSeconds = (performance.now() - t) / 1000;

    (globalThis as { gc?: () => void }).gc?.();
    const baseline = process.memoryUsage().rss;
    const sampler = startRssSampler(undefined, 50);
    o.log(`  dry run: ${o.messages} messages, deployed set against Patient.active false`);
    t = performance.now();
    const report = await dryRunMappings(
      dryRunMessages(db, { sender: BENCH_SENDER, last: o.messages }),
      deployed,
      candidate,
      { defaultTimezone: 'UTC' },
    );
    const seconds = (performance.now() - t) / 1000;
    const peak = sampler.stop();
    return {
      messages: report.results.length,
      examples: examples.length,
      seedSeconds,
      compileSeconds,
      seconds,
      messagesPerSec: report.results.length / seconds,
      summary: report.summary,
      baselineRssMb: baseline / MB,
      peakRssMb: peak / MB,
    };
  } finally {
    await db.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`).catch(() => undefined);
    await db.close();
  }
}

/** The dry-run section of the bench table. */
export function formatDryRun(r: DryRunBenchResult): string[] {
  const s = r.summary;
  return [
    `mapping dry run: ${r.messages} archived messages (${r.examples} golden examples, seeded in ${r.seedSeconds.toFixed(1)} s), Patient.active edit`,
    `  ${r.messagesPerSec.toFixed(0)} messages/s (${r.seconds.toFixed(2)} s: read, decode, map twice, diff), ` +
      `sets compiled in ${r.compileSeconds.toFixed(2)} s; ${s.changed} changed, ${s.unchanged} unchanged, ${s.failed} failed`,
    `  RSS ${r.baselineRssMb.toFixed(0)} MB before, ${r.peakRssMb.toFixed(0)} MB peak`,
  ];
}
