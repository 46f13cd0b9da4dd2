/**
 * Group commit: calls that arrive while a flush is in flight wait for it and then go together in
 * the next flush, so under load one round trip (and one commit) serves many messages, and at low
 * load a call goes out at once, alone. Nothing waits on a timer: a batch is whatever arrived
 * during the previous flush, which is how databases group their own commits.
 */
import type { Settled } from '../errors/settled';

export interface GroupCommitOptions<I> {
  /** Items one flush takes at most. */
  readonly maxBatch: number;
  /**
   * Items that must not share a flush (two rows that would conflict with each other in one
   * statement) give the same key; the later one, and all after it, wait for the next flush.
   * Undefined: any may.
   */
  readonly keyOf?: (item: I) => string;
  /**
   * How long an item may take from `submit` to its outcome. An item still waiting when its
   * budget is spent fails with `error()` without being flushed, and a flush is told the budget
   * its oldest item has left, so waiting for an earlier flush never doubles the bound a caller
   * promises (the ACK path answers within DATABASE_TIMEOUT_MS). Undefined: no bound here.
   */
  readonly budgetMs?: number;
  /** The error of an item whose budget ran out while it waited. */
  readonly expired?: () => unknown;
}

/**
 * Runs one batch; resolves with one outcome per item, in the items' order. `remainingMs` is what
 * is left of the oldest item's budget (undefined without `budgetMs`): the flush must not take longer.
 */
export type FlushBatch<I, O> = (
  items: readonly I[],
  remainingMs: number | undefined,
) => Promise<readonly Settled<O>[]>;

interface Waiting<I, O> {
  readonly item: I;
  /** performance.now() at submit. */
  readonly at: number;
  readonly resolve: (value: O) => void;
  readonly reject: (error: unknown) => void;
}

/** Submits items one at a time and flushes them in groups. */
export interface GroupCommit<I, O> {
  submit(item: I): Promise<O>;
}

/**
 * Creates a group committer over `flush`. A flush that throws fails every item it held.
 * @param flush - writes a batch (one statement, one transaction, one pipeline).
 * @param o - batch bound and conflict key.
 */
export function createGroupCommit<I, O>(
  flush: FlushBatch<I, O>,
  o: GroupCommitOptions<I>,
): GroupCommit<I, O> {
  const waiting: Waiting<I, O>[] = [];
  let flushing = false;

  const takeBatch = (): Waiting<I, O>[] => {
    let n = Math.min(o.maxBatch, waiting.length);
    if (o.keyOf !== undefined) {
      // The batch ends before the first item whose key it already holds, so items keep their
      // arrival order across batches too (the archive's row ids are that order).
      const keys = new Set<string>();
      for (let i = 0; i < n; i++) {
        const key = o.keyOf((waiting[i] as Waiting<I, O>).item);
        if (keys.has(key)) {
          n = i;
          break;
        }
        keys.add(key);
      }
    }
    return waiting.splice(0, n);
  };

  /** Fails the waiting items whose budget is spent; the rest keep their order. */
  const dropExpired = (now: number): void => {
    const budget = o.budgetMs;
    if (budget === undefined) return;
    for (let i = 0; i < waiting.length;) {
      const w = waiting[i] as Waiting<I, O>;
      if (now - w.at < budget) {
        i++;
        continue;
      }
      waiting.splice(i, 1);
      w.reject(o.expired?.() ?? new Error('group commit: the item waited out its budget'));
    }
  };

  const run = async (): Promise<void> => {
    flushing = true;
    try {
      for (dropExpired(performance.now()); waiting.length > 0; dropExpired(performance.now())) {
        const batch = takeBatch();
        const oldest = Math.min(...batch.map((w) => w.at));
        const remaining = o.budgetMs === undefined ? undefined : o.budgetMs - (performance.now() - oldest);
        let outcomes: readonly Settled<O>[];
        try {
          outcomes = await flush(
            batch.map((w) => w.item),
            remaining,
          );
        } catch (err) {
          outcomes = batch.map(() => ({ ok: false as const, error: err }));
        }
        batch.forEach((w, i) => {
          const outcome = outcomes[i];
          if (outcome === undefined) {
            w.reject(new Error('group commit: the flush returned no outcome for an item'));
          } else if (outcome.ok) w.resolve(outcome.value);
          else w.reject(outcome.error);
        });
      }
    } finally {
      flushing = false;
    }
  };

  return {
    submit(item: I): Promise<O> {
      return new Promise<O>((resolve, reject) => {
        waiting.push({ item, at: performance.now(), resolve, reject });
        if (!flushing) void run();
      });
    },
  };
}
