import { describe, expect, it } from 'vitest';
import { createGroupCommit, type FlushBatch } from '../../engine/src/pipeline/group-commit';

/** A flush that records its batches and finishes only when told to. */
function gatedFlush(): {
  flush: FlushBatch<string, string>;
  batches: string[][];
  release(): void;
} {
  const batches: string[][] = [];
  let gates: (() => void)[] = [];
  return {
    batches,
    flush: async (items) => {
      batches.push([...items]);
      await new Promise<void>((resolve) => gates.push(resolve));
      return items.map((item) => ({ ok: true as const, value: item.toUpperCase() }));
    },
    release() {
      const open = gates;
      gates = [];
      for (const g of open) g();
    },
  };
}

const tick = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describe('group commit', () => {
  it('flushes a lone item at once, alone', async () => {
    const g = gatedFlush();
    const commit = createGroupCommit(g.flush, { maxBatch: 10 });
    const a = commit.submit('a');
    expect(g.batches).toEqual([['a']]);
    g.release();
    await expect(a).resolves.toBe('A');
  });

  it('sends what arrived during a flush together in the next, in arrival order', async () => {
    const g = gatedFlush();
    const commit = createGroupCommit(g.flush, { maxBatch: 10 });
    const results = ['a', 'b', 'c', 'd'].map((x) => commit.submit(x));
    expect(g.batches).toEqual([['a']]);
    g.release();
    await tick();
    expect(g.batches).toEqual([['a'], ['b', 'c', 'd']]);
    g.release();
    await expect(Promise.all(results)).resolves.toEqual(['A', 'B', 'C', 'D']);
  });

  it('takes at most maxBatch items a flush', async () => {
    const g = gatedFlush();
    const commit = createGroupCommit(g.flush, { maxBatch: 2 });
    const results = ['a', 'b', 'c', 'd', 'e'].map((x) => commit.submit(x));
    for (let i = 0; i < 3; i++) {
      g.release();
      await tick();
    }
    expect(g.batches).toEqual([['a'], ['b', 'c'], ['d', 'e']]);
    g.release();
    await Promise.all(results);
  });

  it('ends a batch before an item whose key it already holds, so order holds across batches', async () => {
    const g = gatedFlush();
    const commit = createGroupCommit(g.flush, { maxBatch: 10, keyOf: (x) => x[0] ?? '' });
    const results = ['x0', 'a1', 'b1', 'a2', 'c1', 'a3'].map((x) => commit.submit(x));
    for (let i = 0; i < 3; i++) {
      g.release();
      await tick();
    }
    expect(g.batches).toEqual([['x0'], ['a1', 'b1'], ['a2', 'c1'], ['a3']]);
    g.release();
    await Promise.all(results);
  });

  it('fails every item of a flush that throws, and goes on with the next', async () => {
    let calls = 0;
    let gate: (() => void) | undefined;
    const commit = createGroupCommit<string, string>(
      async (items) => {
        calls++;
        if (calls === 1) {
          await new Promise<void>((resolve) => (gate = resolve));
          return items.map((x) => ({ ok: true as const, value: x }));
        }
        if (calls === 2) throw new Error('connection reset');
        return items.map((x) => ({ ok: true as const, value: x }));
      },
      { maxBatch: 10 },
    );
    const first = commit.submit('a');
    const failed = [commit.submit('b'), commit.submit('c')];
    gate?.();
    await expect(first).resolves.toBe('a');
    for (const f of failed) await expect(f).rejects.toThrow('connection reset');
    await expect(commit.submit('d')).resolves.toBe('d');
  });

  it('fails only the items the flush says failed', async () => {
    const commit = createGroupCommit<string, string>(
      (items) =>
        Promise.resolve(
          items.map((x) =>
            x === 'bad'
              ? { ok: false as const, error: new Error('refused') }
              : { ok: true as const, value: x },
          ),
        ),
      { maxBatch: 10 },
    );
    const results = await Promise.allSettled(['ok1', 'bad', 'ok2'].map((x) => commit.submit(x)));
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
  });

  it('fails an item whose budget ran out while it waited, and tells a flush what its oldest item has left', async () => {
    const g = gatedFlush();
    const left: (number | undefined)[] = [];
    const commit = createGroupCommit<string, string>(
      (items, remainingMs) => {
        left.push(remainingMs);
        return g.flush(items, remainingMs);
      },
      { maxBatch: 10, budgetMs: 200, expired: () => new Error('waited out its budget') },
    );
    const first = commit.submit('a');
    const late = commit.submit('b');
    await new Promise((resolve) => setTimeout(resolve, 250));
    const fresh = commit.submit('c');
    g.release();
    await expect(first).resolves.toBe('A');
    await expect(late).rejects.toThrow('waited out its budget');
    await tick();
    // b never reached a flush; c did, with most of its budget left.
    expect(g.batches).toEqual([['a'], ['c']]);
    expect(left[0]).toBeGreaterThan(150);
    expect(left[1]).toBeGreaterThan(150);
    expect(left[1]).toBeLessThanOrEqual(200);
    g.release();
    await expect(fresh).resolves.toBe('C');
  });
});
