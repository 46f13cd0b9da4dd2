/**
 * The worker's V8 flags are set in two places: the forked worker (worker-process.ts) and the
 * split deployment's engine-worker service, which has no fork and takes them from NODE_OPTIONS.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { WORKER_NODE_FLAGS } from '../../engine/src/cli/worker-process';

describe('worker V8 flags', () => {
  it('are the same in docker-compose.yml engine-worker NODE_OPTIONS', () => {
    const compose = parse(readFileSync(new URL('../../docker-compose.yml', import.meta.url), 'utf8')) as {
      services: Record<string, { environment?: Record<string, string> }>;
    };
    const options = compose.services['engine-worker']?.environment?.['NODE_OPTIONS'] ?? '';
    expect(WORKER_NODE_FLAGS.length).toBeGreaterThan(0);
    expect(options.split(/\s+/).filter((f) => f !== '')).toEqual([...WORKER_NODE_FLAGS]);
  });
});
