/**
 * Connection trouble as state changes, not a flood: during an outage a client emits an error on
 * every retry, and 50 identical lines every 10 s bury the one that matters. Each component logs
 * when it goes down (or the reason changes) and when it is back, and nothing in between.
 */
import type { EventEmitter } from 'node:events';
import { describeError } from './describe-error';
import type { Logger } from './logger';

export interface ConnectionState {
  /** Reports an error; logs only when the component was up or the reason changed. */
  down(err: unknown): void;
  /** Reports the component working again; logs once if it was down. */
  up(): void;
}

/** State-change logging for one component (`redis producer`, `process worker` ...). */
export function connectionState(logger: Logger, component: string): ConnectionState {
  let reason: string | undefined;
  let suppressed = 0;
  return {
    down(err) {
      const e = describeError(err);
      if (reason === e.code) {
        suppressed++;
        return;
      }
      reason = e.code;
      logger.error({ component, err: e }, `${component} unavailable`);
    },
    up() {
      if (reason === undefined) return;
      logger.info({ component, errorsWhileDown: suppressed }, `${component} available again`);
      reason = undefined;
      suppressed = 0;
    },
  };
}

/**
 * Watches an emitter (an ioredis client, a BullMQ queue or worker): `error` marks it down and
 * `upEvent` (`ready` for ioredis) marks it up.
 */
export function watchConnection(
  emitter: EventEmitter,
  logger: Logger,
  component: string,
  upEvent?: string,
): ConnectionState {
  const state = connectionState(logger, component);
  emitter.on('error', (err: unknown) => state.down(err));
  if (upEvent !== undefined) emitter.on(upEvent, () => state.up());
  return state;
}
