/**
 * `npm run demo`: the whole product on one machine with one command. A sandbox EHR (the PCP's),
 * the engine trusting it (EHR_ISSUERS_FILE), the PCP's practice registered in its store, and three
 * hospitals sending a handful of patients' visits over MLLP; then one URL, the EHR's patient list,
 * from which the care timeline launches. Redis is the only outside service: without DATABASE_URL
 * the store is embedded PGlite in a temporary directory that goes when the demo stops.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path, { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { ConfigError, loadConfig } from '../config/schema';
import { startEngine, type RunningEngine } from '../engine';
import { createLogger } from '../observability/logger';
import { ensureAppBuild } from './ensure-app-build';
import { pingRedis } from '../queue/redis-connection';
import { buildDemoFeeds } from './sandbox-ehr/demo-feeds';
import { sendDemoFeeds, waitForProcessing, type ProcessingResult } from './sandbox-ehr/demo-feed-sender';
import { DEMO_FACILITIES } from './sandbox-ehr/demo-hospitals';
import { startDemoNoticeReceiver, type DemoNoticeReceiver } from './sandbox-ehr/demo-notice-receiver';
import { DEMO_PATIENTS, DEMO_PRACTITIONER } from './sandbox-ehr/demo-patients';
import { registerDemoPractice } from './sandbox-ehr/demo-practice';
import { startSandboxEhr, type SandboxEhr } from './sandbox-ehr/sandbox-ehr';

const MAPPINGS_DIR = fileURLToPath(new URL('../../../mappings', import.meta.url));
/** The engine's client at the EHR's introspection endpoint. */
const INTROSPECTION_CLIENT_ID = 'care-engine';

export interface DemoOptions {
  /** The engine's HTTP port; 0 picks a free one. @defaultValue 8080 */
  readonly port?: number;
  /** The sandbox EHR's port; 0 picks a free one. @defaultValue 9090 */
  readonly ehrPort?: number;
  /** Send the hospital feeds. @defaultValue true */
  readonly feeds?: boolean;
  /** Where settings are read from (REDIS_URL, DATABASE_URL, LOG_LEVEL ...). @defaultValue process.env */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** Progress lines. @defaultValue none */
  readonly say?: (line: string) => void;
}

export interface DemoFeedSummary {
  readonly sent: number;
  readonly acks: Readonly<Record<string, number>>;
  readonly problems: readonly string[];
  readonly processing: ProcessingResult;
}

export interface RunningDemo {
  /** The one URL a person opens: the sandbox EHR's patient list. */
  readonly launcherUrl: string;
  readonly engine: RunningEngine;
  readonly ehr: SandboxEhr;
  readonly notices: DemoNoticeReceiver;
  /** undefined with `feeds: false`. */
  readonly feeds?: DemoFeedSummary;
  /** Stops everything and removes the demo's temporary files. */
  stop(): Promise<void>;
}

async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** `3 notification-admit, 1 notification-transfer`. */
function tally(events: readonly string[]): string {
  const counts = new Map<string, number>();
  for (const e of events) counts.set(e, (counts.get(e) ?? 0) + 1);
  return [...counts].map(([e, n]) => `${n} ${e.replace(/^notification-/, '')}`).join(', ');
}

function writeSecretFile(file: string, value: unknown): string {
  writeFileSync(file, JSON.stringify(value, null, 2), { mode: 0o600 });
  return file;
}

/** A listen failure said in terms of the flag that fixes it. */
function explainListen(err: unknown, flag: string, port: number): Error {
  const code = (err as { code?: unknown }).code;
  if (code === 'EADDRINUSE') {
    return new Error(`port ${port} is in use; pass ${flag} <port> (0 picks a free one)`);
  }
  return err instanceof Error ? err : new Error(String(err));
}

/**
 * Starts the sandbox EHR, the engine and the demo practice, and sends the feeds.
 * @param o - ports, whether to send feeds, the environment.
 */
export async function startDemo(o: DemoOptions = {}): Promise<RunningDemo> {
  const env = o.env ?? process.env;
  const say = o.say ?? (() => undefined);
  const cleanups: (() => Promise<void> | void)[] = [];
  // Undo steps, last first; one that fails does not keep the others (temporary files) from running.
  const stop = async (): Promise<void> => {
    const failures: unknown[] = [];
    for (const fn of cleanups.reverse()) {
      await Promise.resolve()
        .then(fn)
        .catch((err: unknown) => failures.push(err));
    }
    cleanups.length = 0;
    if (failures.length > 0) throw new AggregateError(failures, 'the demo did not stop cleanly');
  };
  try {
    const dir = mkdtempSync(join(tmpdir(), 'care-demo-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const requested = o.port ?? 8080;
    const httpPort = requested === 0 ? await freePort() : requested;
    const engineUrl = `http://127.0.0.1:${httpPort}`;
    const redisUrl = env['REDIS_URL'] ?? 'redis://127.0.0.1:6379';
    await pingRedis(redisUrl).catch((err: unknown) => {
      const why = err instanceof Error ? err.message : String(err);
      throw new Error(
        `cannot reach Redis at REDIS_URL=${redisUrl} (${why}); start one with \`docker compose up -d redis\``,
      );
    });

    const notices = await startDemoNoticeReceiver();
    cleanups.push(() => notices.close());
    const appClientId = env['SMART_APP_CLIENT_ID'] || 'care-timeline';
    const introspectionSecret = randomBytes(32).toString('base64url');
    const ehrPort = o.ehrPort ?? 9090;
    const ehr = await startSandboxEhr({
      port: ehrPort,
      appLaunchUrl: `${engineUrl}/app/launch.html`,
      appRedirectUris: [`${engineUrl}/app/`, `${engineUrl}/app/index.html`],
      clientId: appClientId,
      patients: DEMO_PATIENTS,
      practitioner: DEMO_PRACTITIONER,
      introspectionClients: [
        {
          method: 'client_secret_basic',
          clientId: INTROSPECTION_CLIENT_ID,
          clientSecret: introspectionSecret,
        },
      ],
    }).catch((err: unknown) => {
      throw explainListen(err, '--ehr-port', ehrPort);
    });
    cleanups.push(() => ehr.close());

    // The engine finds the introspection endpoint in the EHR's smart-configuration.
    const issuersFile = writeSecretFile(join(dir, 'ehr-issuers.json'), [
      {
        iss: ehr.iss,
        introspection_auth: {
          method: 'client_secret_basic',
          client_id: INTROSPECTION_CLIENT_ID,
          client_secret: introspectionSecret,
        },
      },
    ]);
    const embedded = (env['DATABASE_URL'] ?? '') === '';
    const config = loadConfig({
      MLLP_PORT: '0',
      MLLP_HOST: '127.0.0.1',
      MLLP_ALLOWED_SENDERS: DEMO_FACILITIES.map((f) => f.code).join(','),
      MAPPINGS_DIR,
      LOG_LEVEL: 'warn',
      ...env,
      // What makes it this demo: not taken from the environment.
      ENGINE_ROLE: 'all',
      HTTP_PORT: String(httpPort),
      HTTP_HOST: '127.0.0.1',
      PUBLIC_URL: engineUrl,
      SMART_APP_CLIENT_ID: appClientId,
      EHR_ISSUERS_FILE: issuersFile,
      // The demo practice's endpoint is on loopback, which the SSRF guard refuses unless allowed.
      ENDPOINT_ALLOWED_HOSTS: [env['ENDPOINT_ALLOWED_HOSTS'], '127.0.0.1']
        .filter((h) => h !== undefined && h !== '')
        .join(','),
      ...(embedded ? { DATA_DIR: join(dir, 'data') } : {}),
    });
    const engine = await startEngine({ config, logger: createLogger(config.logLevel) }).catch(
      (err: unknown) => {
        throw explainListen(err, '--port', httpPort);
      },
    );
    cleanups.push(() => engine.stop());
    say(
      `engine: ${engineUrl}, store ${embedded ? `embedded PGlite (temporary)` : 'PostgreSQL'}, MLLP 127.0.0.1:${engine.mllpPort}`,
    );

    await registerDemoPractice(engine.db, DEMO_PRACTITIONER, notices.address);
    say(
      `practice: ${DEMO_PRACTITIONER.practice} registered for Dr. ${DEMO_PRACTITIONER.given} ${DEMO_PRACTITIONER.family} (NPI ${DEMO_PRACTITIONER.npi})`,
    );

    let feeds: DemoFeedSummary | undefined;
    if (o.feeds ?? true) {
      const messages = buildDemoFeeds({ now: new Date(), runId: randomBytes(3).toString('hex') });
      const sent = await sendDemoFeeds({ host: '127.0.0.1', port: engine.mllpPort, messages });
      const processing = await waitForProcessing(
        engine.db,
        messages.map((m) => m.controlId),
        120_000,
      );
      feeds = { ...sent, processing };
      const acks = Object.entries(sent.acks)
        .map(([code, n]) => `${n} ${code}`)
        .join(', ');
      say(
        `feeds: ${sent.sent} HL7 messages over MLLP from ${DEMO_FACILITIES.map((f) => f.name).join(', ')}: ` +
          `${acks}; ${processing.processed} processed, ${processing.failed} failed, ${processing.pending} pending`,
      );
      for (const problem of sent.problems) say(`  problem: ${problem}`);
      const delivered = await notices.settled(1_000, 15_000);
      say(`notifications: ${delivered} delivered to the practice's endpoint (${tally(notices.events)})`);
    }
    return {
      launcherUrl: ehr.url,
      engine,
      ehr,
      notices,
      ...(feeds !== undefined ? { feeds } : {}),
      stop,
    };
  } catch (err) {
    // The start-up failure is what the user needs first; a failed clean-up rides along with it.
    await stop().catch((stopErr: unknown) => {
      throw new AggregateError([err, stopErr], err instanceof Error ? err.message : String(err));
    });
    throw err;
  }
}

const USAGE = `usage: npm run demo -- [--port 8080] [--ehr-port 9090] [--no-feeds]
  --port       the engine's HTTP port (the app is served at /app/)
  --ehr-port   the sandbox EHR's port
  --no-feeds   start without sending the hospital feeds`;

function portArg(value: string | undefined, flag: string, fallback: number): number {
  if (value === undefined) return fallback;
  const port = Number(value);
  if (!/^\d+$/.test(value) || port > 65535) throw new Error(`${flag} must be a port number (0-65535)`);
  return port;
}

/**
 * The app the launcher opens must exist: on a fresh clone it is built first, as `npm start` does.
 * A failed build does not stop the demo; the launch then shows the engine's 503 for /app/.
 */
async function buildAppIfStale(): Promise<void> {
  const log = (line: string): void => {
    process.stdout.write(`demo ${line}\n`);
  };
  try {
    await ensureAppBuild({ log });
  } catch (err) {
    log(
      `SMART app: build failed (${err instanceof Error ? err.message.split('\n')[0] : String(err)}); run \`npm run build:app\` to see why`,
    );
  }
}

interface DemoArgs {
  readonly port: number;
  readonly ehrPort: number;
  readonly feeds: boolean;
  readonly help: boolean;
}

function parseDemoArgs(argv: readonly string[]): DemoArgs {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      port: { type: 'string' },
      'ehr-port': { type: 'string' },
      'no-feeds': { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  return {
    port: portArg(values.port, '--port', 8080),
    ehrPort: portArg(values['ehr-port'], '--ehr-port', 9090),
    feeds: !values['no-feeds'],
    help: values.help,
  };
}

async function main(argv: readonly string[]): Promise<void> {
  let args: DemoArgs;
  try {
    args = parseDemoArgs(argv);
  } catch (err) {
    process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n${USAGE}\n`);
    process.exit(2);
  }
  if (args.help) {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  await buildAppIfStale();
  const demo = await startDemo({
    port: args.port,
    ehrPort: args.ehrPort,
    feeds: args.feeds,
    say: (line) => process.stdout.write(`demo ${line}\n`),
  });
  process.stdout.write(
    `\nOpen the sandbox EHR and launch the care timeline:\n\n  ${demo.launcherUrl}\n\nCtrl-C stops the demo.\n`,
  );
  let stopping = false;
  const onSignal = (): void => {
    if (stopping) process.exit(1);
    stopping = true;
    process.stdout.write('demo stopping...\n');
    demo.stop().then(
      () => process.exit(0),
      (err: unknown) => {
        process.stderr.write(`demo: stop failed: ${err instanceof Error ? err.message : String(err)}\n`);
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
}

if (process.argv[1] !== undefined && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main(process.argv.slice(2)).catch((err: unknown) => {
    // A configuration error lists every problem; anything else is said in one line.
    const message =
      err instanceof ConfigError
        ? err.message
        : err instanceof Error
          ? err.message.split('\n')[0]
          : String(err);
    process.stderr.write(`error: ${message}\n`);
    process.exit(err instanceof ConfigError ? 2 : 1);
  });
}
