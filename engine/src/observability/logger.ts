/**
 * The engine's structured logger. Log lines carry message IDs and codes, never names or values:
 * `redact` is a last line of defence for fields that must never appear.
 */
import { pino, type Logger } from 'pino';

export type { Logger };

/** Creates the root logger at the configured level. */
export function createLogger(level: string): Logger {
  return pino({
    level,
    base: { service: 'care-engine' },
    redact: { paths: ['raw', '*.raw', 'text', 'patient', 'name', '*.name'], censor: '[phi]' },
  });
}
