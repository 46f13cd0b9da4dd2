/**
 * `npm start`: parses configuration once, checks Redis is there (with a one-line fix when it is
 * not), starts the engine and shuts it down gracefully on SIGTERM/SIGINT.
 */
import { ConfigError, loadConfig } from '../config/schema';
import { startEngine } from '../engine';
import { createLogger } from '../observability/logger';
import { pingRedis } from '../queue/redis-connection';

async function main(): Promise<void> {
  let config;
  try {
    config = loadConfig(process.env);
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${err.message}\n`);
      process.exit(2);
    }
    throw err;
  }
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
  const engine = await startEngine({ config, logger });
  process.stdout.write(
    `engine ready: MLLP on port ${engine.mllpPort}, HTTP on ${config.http.publicUrl} (store: ${engine.db.kind})\n`,
  );
  let stopping = false;
  const stop = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down');
    engine
      .stop()
      .then(() => process.exit(0))
      .catch(() => process.exit(1));
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}

main().catch((err: unknown) => {
  process.stderr.write(`error: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
