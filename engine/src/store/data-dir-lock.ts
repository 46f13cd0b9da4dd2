/**
 * One engine per embedded data directory. PGlite lets a second process open the same files, and
 * two engines on one directory leave each other's messages `received`; this lock refuses the second.
 */
import { readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { lock } from 'proper-lockfile';
import { CodedError } from '../errors/coded-error';

/**
 * The lock is a directory whose mtime its holder refreshes every `LOCK_UPDATE_MS`; one left
 * untouched for `LOCK_STALE_MS` belongs to a process that died without releasing it (kill -9, power
 * loss) and is taken over. That is four missed refreshes, so a slow disk does not lose the lock.
 * A stall longer than that (a suspended VM) lets a waiting engine take over; the stalled one then
 * sees the mtime is no longer its own and reports the lock lost. The cost of a short stale period:
 * an engine restarted right after a kill -9 waits up to 10 s for the old lock.
 */
export const LOCK_STALE_MS = 10_000;
export const LOCK_UPDATE_MS = 2_500;

/** Inside the data directory, so the lock moves with it and needs no writable parent. */
const LOCK_NAME = 'engine.lock';
/** Beside the lock (proper-lockfile removes its directory with rmdir, so it must stay empty). */
const PID_NAME = 'engine.pid';

export type DataDirLockErrorCode = 'data-dir-in-use' | 'data-dir-lock-failed' | 'data-dir-lock-lost';

/** Why the data directory cannot be (or no longer is) ours; the message is one line naming it. */
export class DataDirLockError extends CodedError<DataDirLockErrorCode> {
  override readonly name = 'DataDirLockError';
}

export interface DataDirLock {
  /** Set once another process took the lock or it was deleted: the files must not be written again. */
  readonly lost: DataDirLockError | undefined;
  /** Removes the lock; a no-op once released or lost. */
  release(): Promise<void>;
}

export interface DataDirLockOptions {
  /** @defaultValue LOCK_STALE_MS */
  readonly staleMs?: number;
  /** @defaultValue LOCK_UPDATE_MS */
  readonly updateMs?: number;
  /** Told when the lock is lost; by default one `error:` line goes to stderr. Must not throw. */
  readonly onLost?: (err: DataDirLockError) => void;
}

/**
 * Takes the lock of `dir` (which must exist) or throws a `DataDirLockError`. A lock whose recorded
 * holder is alive is refused at once; one whose holder is gone is waited for until it is stale.
 */
export async function lockDataDir(dir: string, options: DataDirLockOptions = {}): Promise<DataDirLock> {
  const staleMs = options.staleMs ?? LOCK_STALE_MS;
  const updateMs = options.updateMs ?? LOCK_UPDATE_MS;
  const pidFile = path.join(dir, PID_NAME);
  let lost: DataDirLockError | undefined;
  let released = false;
  const onCompromised = (err: Error): void => {
    // Called from a timer: throwing here (the library's default) would crash the process with
    // a bare stack trace. Record it instead; the store refuses queries from now on.
    lost = new DataDirLockError(
      'data-dir-lock-lost',
      `data directory ${dir} is no longer locked by this engine (${oneLine(err.message)}); its store refuses further queries, restart the engine`,
    );
    if (options.onLost !== undefined) options.onLost(lost);
    else process.stderr.write(`error: ${lost.message}\n`);
  };

  const deadline = Date.now() + staleMs + updateMs;
  let unlock: () => Promise<void>;
  for (;;) {
    try {
      unlock = await lock(dir, {
        lockfilePath: path.join(dir, LOCK_NAME),
        stale: staleMs,
        update: updateMs,
        onCompromised,
      });
      break;
    } catch (err) {
      if (!isCode(err, 'ELOCKED')) {
        throw new DataDirLockError(
          'data-dir-lock-failed',
          `cannot lock data directory ${dir} (${oneLine(err instanceof Error ? err.message : String(err))}); check its permissions or set DATA_DIR`,
          { cause: err },
        );
      }
      const holder = await readHolder(pidFile);
      // A live holder is another engine: say so now. A dead one (kill -9) stops refreshing its
      // lock, which proper-lockfile takes over once stale; the pid only decides whether to wait.
      if (holder === undefined || isAlive(holder) || Date.now() >= deadline) {
        throw new DataDirLockError(
          'data-dir-in-use',
          `data directory ${dir} is in use by another engine${holder === undefined ? '' : ` (pid ${holder})`}; stop it or set DATA_DIR`,
        );
      }
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  }

  try {
    await writeFile(pidFile, `${process.pid}\n`);
  } catch (err) {
    await unlock().catch(() => undefined);
    throw new DataDirLockError(
      'data-dir-lock-failed',
      `cannot write ${pidFile} (${oneLine(err instanceof Error ? err.message : String(err))}); check its permissions or set DATA_DIR`,
      { cause: err },
    );
  }

  return {
    get lost() {
      return lost;
    },
    async release() {
      if (released || lost !== undefined) return;
      released = true;
      // The pid file first: once the lock is gone, the file may already be the next holder's.
      await rm(pidFile, { force: true });
      await unlock();
    },
  };
}

async function readHolder(pidFile: string): Promise<number | undefined> {
  const text = await readFile(pidFile, 'utf8').catch(() => '');
  const pid = Number.parseInt(text.trim(), 10);
  return Number.isSafeInteger(pid) && pid > 0 ? pid : undefined;
}

/** In this host's pid namespace; a wrong answer (shared volume, reused pid) costs only time. */
function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return !isCode(err, 'ESRCH');
  }
}

function isCode(err: unknown, code: string): boolean {
  return err instanceof Error && (err as NodeJS.ErrnoException).code === code;
}

function oneLine(text: string): string {
  return text.replace(/\s+/g, ' ').trim();
}
