/**
 * A sweep that runs every so often and never overlaps itself: the recovery sweep and the outbox
 * sweep share it. A sweep that fails (the store away) is logged once when it starts failing and
 * once when it works again, not on every turn of an outage.
 */
import { connectionState } from '../observability/connection-state';
import type { Logger } from '../observability/logger';

export interface PeriodicSweep {
  /** Names the sweep in its log lines. */
  readonly name: string;
  readonly intervalMs: number;
  readonly logger: Logger;
  /** One pass; resolves with how much it did. */
  run(): Promise<number>;
  /** Logs a pass that did something. */
  report(done: number): void;
}

/** Starts the sweep; the returned function stops it. */
export function startPeriodicSweep(s: PeriodicSweep): () => void {
  const state = connectionState(s.logger, s.name);
  let running = false;
  const timer = setInterval(() => {
    if (running) return;
    running = true;
    s.run()
      .then((done) => {
        state.up();
        if (done > 0) s.report(done);
      })
      .catch((err: unknown) => state.down(err))
      .finally(() => {
        running = false;
      });
  }, s.intervalMs);
  timer.unref();
  return () => clearInterval(timer);
}
