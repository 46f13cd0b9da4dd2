/**
 * What a database error means, decided in one place: the archive (AR for a row fault, AE
 * otherwise), the connection-state log and the HTTP answer (503 or 500) all read it from here,
 * so they never disagree about the same SQLSTATE.
 */

/** The SQLSTATE of a database error: five digits or capitals; errno codes (EPIPE) are not. */
export function sqlStateOf(err: unknown): string | undefined {
  const code = typeof err === 'object' && err !== null && 'code' in err ? err.code : undefined;
  return typeof code === 'string' && /^[0-9A-DF-Z][0-9A-Z]{4}$/.test(code) ? code : undefined;
}

/**
 * A fault in the row itself, which the same bytes will meet again: classes 22 (data exception),
 * 23 (integrity, but not 23505, the unique race ON CONFLICT resolves on retry) and 54 (program
 * limit, e.g. an index row too large).
 */
export function isRowFault(sqlState: string): boolean {
  if (sqlState === '23505') return false;
  const cls = sqlState.slice(0, 2);
  return cls === '22' || cls === '23' || cls === '54';
}

/**
 * The connection is gone or never came: a network or driver error (no SQLSTATE), class 08
 * (connection exception) or 57P0x (the server is shutting down).
 */
export function isConnectionFailure(err: unknown): err is Error {
  if (!(err instanceof Error)) return false;
  const state = sqlStateOf(err);
  return state === undefined || state.startsWith('08') || state.startsWith('57P0');
}

/**
 * The store is away or too busy, and the same request may succeed later: a connection failure
 * with a network code, a statement timeout (57014), insufficient resources (53) or a retryable
 * conflict (40001, 40P01). A driver error without any code is not counted here: it may be a bug.
 */
export function isStoreOutage(err: unknown): boolean {
  const code = typeof err === 'object' && err !== null && 'code' in err ? err.code : undefined;
  if (typeof code !== 'string') return false;
  if (/^(ECONNREFUSED|ECONNRESET|ETIMEDOUT|EPIPE)$/.test(code)) return true;
  const state = sqlStateOf(err);
  if (state === undefined) return false;
  return (
    state.startsWith('08') ||
    state.startsWith('57P0') ||
    state === '57014' ||
    state.startsWith('53') ||
    state === '40001' ||
    state === '40P01'
  );
}
