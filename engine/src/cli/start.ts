/**
 * `npm start`: parses configuration once, checks Redis is there (with a one-line fix when it is
 * not), starts the engine and drains it on SIGTERM/SIGINT: stop accepting, let in-flight ACKs
 * and jobs finish, exit 0. With PostgreSQL, role `all` runs processing in a child process below
 * the listener's priority (worker-process.ts); the embedded store serves one process only, so
 * with it everything runs here.
 */
import { ConfigError, loadConfig, type Config } from '../config/schema';
import { startEngine, type EngineParts } from '../engine';
import { createLogger } from '../observability/logger';
import { pingRedis } from '../queue/redis-connection';
import { ensureAppBuild } from './ensure-app-build';
import { startWorkerProcess, type WorkerProcess } from './worker-process';

function readConfig(): Config {
  try {
    return loadConfig(process.env);
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${err.message}\n`);
      process.exit(2);
    }
    throw err;
  }
}

/** What to tell a person who just started the engine. */
function readyLines(config: Config, mllpPort: number, httpPort: number, store: string): string {
  const lines = [`engine ready: role ${config.role}, store ${store}`];
  if (mllpPort > 0) lines.push(`  MLLP on ${config.mllp.host}:${mllpPort}`);
  if (httpPort > 0) {
    lines.push(`  HTTP on ${config.http.publicUrl} (bound to ${config.http.host}:${httpPort})`);
  }
  if (httpPort > 0 && config.smartClientsFile === undefined) {
    lines.push(
      '  note: SMART_CLIENTS_FILE is unset, so nobody can get a token for the APIs;',
      '        run `npm run client -- create` and restart with SMART_CLIENTS_FILE=data/smart-clients.json',
    );
  }
  return `${lines.join('\n')}\n`;
}

/**
 * Calls `onGone` when the process that started this one is gone. Under `npm start` npm runs the
 * script through `sh -c`, and a shell that does not exec its command (dash, Debian's /bin/sh)
 * dies of the SIGTERM npm forwards without passing it on: node would be left running, orphaned,
 * holding the ports. A forked worker stops the same way if its parent dies without stopping it.
 * Started directly (node, systemd, nohup), the engine does not depend on its parent.
 */
function watchParent(onGone: () => void): void {
  if (process.channel !== undefined) process.once('disconnect', onGone);
  if (process.env['npm_lifecycle_event'] === undefined) return;
  const parent = process.ppid;
  setInterval(() => {
    if (process.ppid !== parent) onGone();
  }, 250).unref();
}

/**
 * Serves a current SMART app (see ensure-app-build.ts). A failed build does not stop the engine:
 * hospital feeds matter more than the app, which keeps its previous build (or answers 503).
 */
async function buildAppIfStale(): Promise<void> {
  const log = (line: string): void => {
    process.stdout.write(`${line}\n`);
  };
  try {
    await ensureAppBuild({ log });
  } catch (err) {
    log(
      `SMART app: build failed (${err instanceof Error ? err.message.split('\n')[0] : String(err)}); run \`npm run build:app\` to see why`,
    );
  }
}

async function main(): Promise<void> {
  const config = readConfig();
  try {
    await pingRedis(config.redis.url);
  } catch (err) {
    const why = err instanceof Error ? err.message : String(err);
    process.stderr.write(
      `error: cannot reach Redis at REDIS_URL=${config.redis.url} (${why}); start one with \`docker compose up -d redis\` or set REDIS_URL\n`,
    );
    process.exit(1);
  }
  const logger = createLogger(config.logLevel);
  if (config.role === 'all' || config.role === 'http') await buildAppIfStale();
  const splitWorkers = config.role === 'all' && config.database.url !== undefined;
  const parts: EngineParts | undefined = splitWorkers
    ? { ingest: true, worker: false, http: true }
    : undefined;
  const engine = await startEngine({ config, logger, ...(parts !== undefined ? { parts } : {}) });
  let workers: WorkerProcess | undefined;
  let stopping = false;
  const stop = (signal: string, code = 0): void => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'draining: no new messages, finishing in-flight ACKs and jobs');
    // Ingest first (no new work), then the workers finish theirs.
    engine
      .stop()
      .then(() => workers?.stop())
      .then(() => process.exit(code))
      .catch(() => process.exit(1));
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
  watchParent(() => stop('parent-exit'));
  if (splitWorkers) {
    try {
      workers = await startWorkerProcess({
        env: process.env,
        onUnexpectedExit: (exitCode, signal) => {
          logger.error({ exitCode, signal }, 'worker process exited: stopping the engine');
          stop('worker-exit', 1);
        },
      });
    } catch (err) {
      await engine.stop();
      throw err;
    }
  }
  process.stdout.write(readyLines(config, engine.mllpPort, engine.httpPort, engine.db.kind));
}

main().catch((err: unknown) => {
  // The whole message: a file's problems are listed on the lines after its name.
  process.stderr.write(`error: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
