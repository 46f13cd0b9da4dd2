/**
 * Command-line options of `npm run simulate`, parsed and checked in one pass so every mistake
 * is reported together. Every run is bounded: by --count, by --duration, and by --timeout.
 */
import { parseArgs } from 'node:util';

export interface SimulateArgs {
  readonly host: string;
  readonly port: number;
  /** Messages per second in total; 0 = as fast as ACKs come back. */
  readonly rate: number;
  readonly patients: number;
  readonly facilities: number;
  readonly connections: number;
  /** Stop after this many messages (undefined: the duration decides). */
  readonly count?: number;
  /** Stop sending after this many seconds. */
  readonly durationSec?: number;
  /** Hard limit on a run's length when only --count is given. */
  readonly timeoutSec: number;
  readonly corpus?: string;
  readonly seed: string;
  readonly runId?: string;
  /** Simulated clock start. */
  readonly start?: Date;
  readonly tls: boolean;
  readonly tlsCa?: string;
  readonly tlsCert?: string;
  readonly tlsKey?: string;
  readonly ackTimeoutMs: number;
  readonly reportEverySec: number;
  /** Print only a JSON result on stdout (progress goes to stderr). */
  readonly json: boolean;
  readonly help: boolean;
}

export const SIMULATE_USAGE = `usage: npm run simulate -- [options]
  --port N            MLLP port (2575)              --host H          (127.0.0.1)
  --rate N            messages/second in total, on a fixed schedule: a connection that fell behind
                      sends its late slots at once (200; 0 = unpaced: send, await ACK, send)
  --patients N (500)  --facilities N (3)            --connections N   (1)
  --count N           stop after N messages          --duration S      stop after S seconds
                      (neither: --duration 30; corpus: every message once)
  --timeout S         hard limit when only --count is given (600)
  --corpus DIR        send every DIR/*.hl7 instead of generated feeds (MSH-10 gets -<runId>)
  --seed X            reproduce a run's content (default: random, printed)
  --run-id X          fixes the MSH-10 prefix (default: random, so runs never collide)
  --start ISO         simulated clock start (default: 24 h ago)
  --tls [--tls-ca F] [--tls-cert F --tls-key F]      MLLP over TLS / mutual TLS
  --ack-timeout MS    (10000)   --report-every S (5)   --json   print a JSON result`;

const OPTIONS = {
  host: { type: 'string', default: '127.0.0.1' },
  port: { type: 'string', default: '2575' },
  rate: { type: 'string', default: '200' },
  patients: { type: 'string', default: '500' },
  facilities: { type: 'string', default: '3' },
  connections: { type: 'string', default: '1' },
  count: { type: 'string' },
  duration: { type: 'string' },
  timeout: { type: 'string', default: '600' },
  corpus: { type: 'string' },
  seed: { type: 'string' },
  'run-id': { type: 'string' },
  start: { type: 'string' },
  tls: { type: 'boolean', default: false },
  'tls-ca': { type: 'string' },
  'tls-cert': { type: 'string' },
  'tls-key': { type: 'string' },
  'ack-timeout': { type: 'string', default: '10000' },
  'report-every': { type: 'string', default: '5' },
  json: { type: 'boolean', default: false },
  help: { type: 'boolean', short: 'h', default: false },
} as const;

/**
 * Parses argv; throws an Error listing every problem.
 * @param argv - arguments after the script name.
 */
export function parseSimulateArgs(argv: readonly string[]): SimulateArgs {
  const { values } = parseArgs({ args: [...argv], strict: true, options: OPTIONS });
  const problems: string[] = [];
  const num = (name: string, raw: string | undefined, min: number, max: number): number | undefined => {
    if (raw === undefined) return undefined;
    const n = Number(raw);
    if (!Number.isFinite(n) || n < min || n > max) {
      problems.push(`--${name} must be a number from ${min} to ${max}, got "${raw}"`);
    }
    return n;
  };
  const start = values.start === undefined ? undefined : new Date(values.start);
  problems.push(...crossCheck(values, start));
  const args: SimulateArgs = {
    host: values.host,
    port: num('port', values.port, 1, 65535) ?? 0,
    rate: num('rate', values.rate, 0, 1_000_000) ?? 0,
    patients: num('patients', values.patients, 1, 10_000_000) ?? 0,
    facilities: num('facilities', values.facilities, 1, 1000) ?? 0,
    connections: num('connections', values.connections, 1, 256) ?? 0,
    ...optional('count', num('count', values.count, 1, 100_000_000)),
    ...optional('durationSec', num('duration', values.duration, 0.1, 86_400)),
    timeoutSec: num('timeout', values.timeout, 1, 86_400) ?? 600,
    ...optional('corpus', values.corpus),
    seed: values.seed ?? String(Math.floor(Math.random() * 1e9)),
    ...optional('runId', values['run-id']),
    ...optional('start', start),
    tls: values.tls || values['tls-ca'] !== undefined || values['tls-cert'] !== undefined,
    ...optional('tlsCa', values['tls-ca']),
    ...optional('tlsCert', values['tls-cert']),
    ...optional('tlsKey', values['tls-key']),
    ackTimeoutMs: num('ack-timeout', values['ack-timeout'], 1, 600_000) ?? 10_000,
    reportEverySec: num('report-every', values['report-every'], 0.1, 3600) ?? 5,
    json: values.json,
    help: values.help,
  };
  if (args.connections > args.patients && args.corpus === undefined) {
    problems.push('--connections must not exceed --patients');
  }
  if (problems.length > 0) throw new Error(`invalid options:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
  return args;
}

type ParsedValues = ReturnType<typeof parseArgs<{ options: typeof OPTIONS; strict: true }>>['values'];

/** Checks that span options or need more than a number range. */
function crossCheck(values: ParsedValues, start: Date | undefined): string[] {
  const problems: string[] = [];
  if (start !== undefined && Number.isNaN(start.getTime())) {
    problems.push(`--start must be an ISO date, got "${values.start ?? ''}"`);
  }
  if (values['run-id'] !== undefined && !/^[A-Za-z0-9]{1,10}$/.test(values['run-id'])) {
    problems.push('--run-id must be 1-10 letters or digits');
  }
  if ((values['tls-cert'] === undefined) !== (values['tls-key'] === undefined)) {
    problems.push('--tls-cert and --tls-key go together');
  }
  return problems;
}

function optional<K extends string, V>(key: K, value: V | undefined): { [P in K]?: V } {
  return (value === undefined ? {} : { [key]: value }) as { [P in K]?: V };
}
