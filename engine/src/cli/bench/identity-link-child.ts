/**
 * The identity bench's per-message phase in a process of its own, started with the worker's V8
 * flags (worker-process.ts): linking is timed in a heap shaped like a worker's, not in the bench
 * process that generated, stored and judged a 100,000-record population.
 */
import { fork } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { openDb } from '../../store/db';
import { WORKER_NODE_FLAGS } from '../worker-process';
import type { SyntheticRecord } from './identity-population';
import { linkOneByOne } from './identity-link-timing';

interface LinkJob {
  readonly databaseUrl: string;
  readonly schema: string;
  readonly records: readonly SyntheticRecord[];
}

const SELF = fileURLToPath(import.meta.url);

/** Links `records` one message at a time in a worker-like child; resolves with the timings. */
export async function linkInWorkerProcess(job: LinkJob): Promise<number[]> {
  const child = fork(SELF, ['--child'], {
    execArgv: [...WORKER_NODE_FLAGS, '--import', 'tsx'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const exited = once(child, 'exit');
  child.send(job);
  const [reply] = (await Promise.race([
    once(child, 'message'),
    exited.then(([code]) => {
      throw new Error(`identity link process exited with code ${String(code)} before replying`);
    }),
  ])) as [{ readonly times?: number[]; readonly error?: string }];
  await exited;
  if (reply.error !== undefined || reply.times === undefined) {
    throw new Error(`identity link process failed: ${reply.error ?? 'no timings'}`);
  }
  return reply.times;
}

async function runChild(job: LinkJob): Promise<number[]> {
  const db = await openDb({
    url: job.databaseUrl,
    schema: job.schema,
    dataDir: 'memory://',
    timeoutMs: 10 * 60_000,
  });
  try {
    return await linkOneByOne(db, job.records);
  } finally {
    await db.close();
  }
}

if (process.argv[2] === '--child') {
  process.once('message', (job: LinkJob) => {
    runChild(job).then(
      (times) => process.send?.({ times }, () => process.disconnect()),
      (err: unknown) => {
        process.send?.({ error: err instanceof Error ? err.message : String(err) }, () => process.exit(1));
      },
    );
  });
}
