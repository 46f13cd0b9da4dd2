/**
 * `npm run simulate`: realistic hospital feeds over real MLLP (node-hl7-client) against a running
 * engine, or a directory of .hl7 files with --corpus. Exits non-zero unless every message got AA.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { ConnectionOptions } from 'node:tls';
import { loadCorpus } from './simulator/corpus';
import { createCorpusSource, createGeneratedSource, type MessageSource } from './simulator/message-source';
import { createPopulation } from './simulator/patient-population';
import { runSimulation } from './simulator/run-simulation';
import { parseSimulateArgs, SIMULATE_USAGE, type SimulateArgs } from './simulator/simulate-args';
import { formatProgress, formatSummary, isCleanRun } from './simulator/simulation-report';

/** When neither --count nor --duration is given, a generated feed runs this long. */
const DEFAULT_DURATION_SEC = 30;

async function main(argv: readonly string[]): Promise<number> {
  let args: SimulateArgs;
  try {
    args = parseSimulateArgs(argv);
  } catch (err) {
    process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n${SIMULATE_USAGE}\n`);
    return 2;
  }
  if (args.help) {
    process.stdout.write(`${SIMULATE_USAGE}\n`);
    return 0;
  }
  const runId = args.runId ?? randomBytes(4).toString('hex').slice(0, 6);
  const say = (line: string): boolean => (args.json ? process.stderr : process.stdout).write(`${line}\n`);
  const { source, description } = buildSource(args, runId);
  const durationSec =
    args.durationSec ??
    (args.count === undefined && args.corpus === undefined ? DEFAULT_DURATION_SEC : args.timeoutSec);
  say(`simulate: ${description}`);
  say(
    `  -> ${args.tls ? 'mllps' : 'mllp'}://${args.host}:${args.port}  connections ${args.connections}  ` +
      `rate ${args.rate === 0 ? 'unpaced' : `${args.rate}/s`}  up to ${source.total} messages / ${durationSec} s  ` +
      `seed ${args.seed}  run ${runId}`,
  );
  const result = await runSimulation({
    host: args.host,
    port: args.port,
    ...(args.tls ? { tls: tlsOptions(args) } : {}),
    connections: args.connections,
    ratePerSec: args.rate,
    source,
    maxDurationMs: durationSec * 1000,
    ackTimeoutMs: args.ackTimeoutMs,
    reportEveryMs: args.reportEverySec * 1000,
    onProgress: (s) => say(formatProgress(s)),
  });
  // A run meant to send its --count (or the whole corpus) fails if the safety timeout cut it short.
  const clean = isCleanRun(
    result,
    args.durationSec === undefined && (args.count !== undefined || args.corpus !== undefined),
  );
  if (args.json) process.stdout.write(`${JSON.stringify({ runId, seed: args.seed, clean, ...result })}\n`);
  else say(formatSummary(result));
  say(
    clean
      ? 'result: every message acknowledged AA'
      : 'result: FAILED (see ACK codes and send failures above)',
  );
  return clean ? 0 : 1;
}

function buildSource(args: SimulateArgs, runId: string): { source: MessageSource; description: string } {
  if (args.corpus !== undefined) {
    const messages = loadCorpus(args.corpus, runId);
    const source = createCorpusSource(messages, args.count ?? messages.length);
    const description =
      `corpus ${args.corpus}: ${messages.length} messages, sent as written except MSH-10 suffixed with ` +
      `"-${runId}" (plus "-<n>" where files share an MSH-10) so each is unique in this run; ` +
      `file BOMs dropped, line breaks sent as CR`;
    return { source, description };
  }
  const population = createPopulation({
    patients: args.patients,
    facilities: args.facilities,
    seed: args.seed,
  });
  const streams = args.connections;
  // Without --count the duration is the bound; the source just must not run dry first.
  const count =
    args.count ??
    Math.ceil((args.rate > 0 ? args.rate : 20_000) * (args.durationSec ?? DEFAULT_DURATION_SEC) * 1.1) +
      streams;
  const start = args.start ?? new Date(Math.floor(Date.now() / 60_000) * 60_000 - 24 * 3600_000);
  const source = createGeneratedSource({ population, seed: args.seed, runId, streams, count, start });
  const facilities = population.facilities.map((f) => `${f.adtApplication}^${f.code}`).join(', ');
  return {
    source,
    description: `${args.patients} synthetic patients across ${args.facilities} facilities (${facilities})`,
  };
}

function tlsOptions(args: SimulateArgs): ConnectionOptions {
  return {
    ...(args.tlsCa !== undefined ? { ca: readFileSync(args.tlsCa) } : {}),
    ...(args.tlsCert !== undefined ? { cert: readFileSync(args.tlsCert) } : {}),
    ...(args.tlsKey !== undefined ? { key: readFileSync(args.tlsKey) } : {}),
  };
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`simulate failed: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 1;
  },
);
