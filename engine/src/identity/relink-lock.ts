/**
 * A full relink rewrites every record's person, so it must not interleave with the pipeline's
 * linking: each link step holds this lock shared until its transaction ends, and the relink's
 * write holds it exclusively. Linking steps never wait on each other here.
 */
import type { Queryable } from '../store/db';

/** One 64-bit advisory lock id, apart from the two-int keys of store/advisory-locks.ts. */
export const RELINK_LOCK = 7_231_950_412_001;

export async function holdRelinkShared(tx: Queryable): Promise<void> {
  await tx.query(`SELECT pg_advisory_xact_lock_shared($1::bigint)`, [RELINK_LOCK]);
}

export async function holdRelinkExclusive(tx: Queryable): Promise<void> {
  await tx.query(`SELECT pg_advisory_xact_lock($1::bigint)`, [RELINK_LOCK]);
}
