/**
 * One item's outcome where a batch may fail some items and not others: like
 * `PromiseSettledResult`, but narrowed on a boolean and with the error kept as thrown.
 */
export type Settled<T> =
  { readonly ok: true; readonly value: T } | { readonly ok: false; readonly error: unknown };

/** Awaits `p` and says how it ended, never rejecting. */
export async function settle<T>(p: Promise<T>): Promise<Settled<T>> {
  try {
    return { ok: true, value: await p };
  } catch (error) {
    return { ok: false, error };
  }
}
