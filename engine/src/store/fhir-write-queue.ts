/**
 * The versions a bundle decides, written together just before the transaction's next statement:
 * a message's new Patient, Encounter, Condition and Provenance cost one round trip, not four, and
 * every statement (the store's or a hook's) still sees every write decided before it.
 */
import { CodedError } from '../errors/coded-error';
import type { Queryable } from './db';
import {
  versionRow,
  writeVersionRows,
  type CurrentVersion,
  type NewVersion,
  type VersionRow,
} from './fhir-version-writer';

export interface WriteQueue {
  /** The transaction, writing what is queued before each statement it runs. */
  readonly tx: Queryable;
  /**
   * Queues `v` as the version after `previous` (the first when undefined) and returns its
   * number. Throws at once, before anything is written, when the version cannot be stored.
   */
  queue(v: NewVersion, previous: CurrentVersion | undefined): Promise<number>;
  /** Writes what is queued. */
  flush(): Promise<void>;
}

/**
 * A queue over `tx`, whose caller holds the lock of every resource it queues (the row, or for a
 * first version the `fhir:` key every creator takes), so no write can find its row changed.
 */
export function createWriteQueue(tx: Queryable): WriteQueue {
  let pending: VersionRow[] = [];
  const queued = new Set<string>();
  const flush = async (): Promise<void> => {
    if (pending.length === 0) return;
    const rows = pending;
    pending = [];
    queued.clear();
    const written = await writeVersionRows(tx, rows);
    for (const { v, first } of rows) {
      const key = `${v.type}/${v.id}`;
      if (written.has(key)) continue;
      // Only a creator that skips the key lock can get here; a retry decides on its row.
      if (first) {
        throw new CodedError('fhir-concurrent-create', `${key} was created meanwhile by another writer`, {
          transient: true,
        });
      }
      throw new Error(`version write of ${key} lost its row`);
    }
  };
  return {
    tx: {
      query: async (sql, params, options) => {
        await flush();
        return tx.query(sql, params, options);
      },
      exec: async (sql) => {
        await flush();
        await tx.exec(sql);
      },
    },
    async queue(v, previous) {
      const row = versionRow(v, previous);
      const key = `${v.type}/${v.id}`;
      // One statement writes a row once: a second version of it goes after the first.
      if (queued.has(key)) await flush();
      pending.push(row);
      queued.add(key);
      return row.versionId;
    },
    flush,
  };
}
