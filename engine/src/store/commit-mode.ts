/**
 * A CTE that makes the statement's own transaction commit without waiting for the disk
 * (`synchronous_commit = off`, local to that transaction). For single statements whose loss in a
 * crash is repaired by a sweep: it saves a WAL flush, which under load would otherwise queue
 * behind and ahead of the flushes the ACK path waits for. Use as `WITH ${ASYNC_COMMIT_SQL} ...
 * FROM commit_mode`: a CTE nothing reads is never run. Never inside a transaction whose other
 * writes must be durable: the setting applies to the whole transaction.
 */
export const ASYNC_COMMIT_SQL = `commit_mode AS (SELECT set_config('synchronous_commit', 'off', true))`;
