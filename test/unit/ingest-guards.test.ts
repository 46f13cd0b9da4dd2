/**
 * The pieces of ingest that decide what a rejection costs and what a store error means: the
 * per-peer budget of rejected rows, the peer addresses it is kept by, and SQLSTATE classification.
 */
import { describe, expect, it } from 'vitest';
import { RejectedRowBudget } from '../../engine/src/pipeline/ingest';
import { peerAddress } from '../../engine/src/pipeline/mllp-listener';
import { ArchiveError, ArchiveErrorCode } from '../../engine/src/store/message-archive';

describe('peerAddress', () => {
  // The listener names a connection's peer from the socket's address (no port to strip, so no
  // guessing where an IPv6 address ends); ingest budgets rejections by that same name.
  it.each([
    ['10.0.0.5', '10.0.0.5'],
    ['::ffff:10.0.0.5', '10.0.0.5'],
    ['::FFFF:127.0.0.1', '127.0.0.1'],
    ['::1', '::1'],
    ['fe80::1:2:3', 'fe80::1:2:3'],
    ['2001:db8::7', '2001:db8::7'],
    [undefined, 'unknown'],
  ])('%s is %s', (remote, peer) => {
    expect(peerAddress(remote)).toBe(peer);
  });
});

describe('RejectedRowBudget', () => {
  it('archives the first N per window, then reports once per window, with the previous count', () => {
    let now = 0;
    const budget = new RejectedRowBudget(3, 60_000, () => now);
    const turns = Array.from({ length: 6 }, () => budget.take('a'));
    expect(turns.map((t) => t.archive)).toEqual([true, true, true, false, false, false]);
    expect(turns.map((t) => t.firstOverInWindow)).toEqual([false, false, false, true, false, false]);
    // Another peer has its own budget.
    expect(budget.take('b').archive).toBe(true);
    now = 59_999;
    expect(budget.take('a').archive).toBe(false);
    now = 60_000;
    const next = Array.from({ length: 4 }, () => budget.take('a'));
    expect(next.map((t) => t.archive)).toEqual([true, true, true, false]);
    expect(next[3]).toEqual({ archive: false, firstOverInWindow: true, unarchivedInPreviousWindow: 4 });
  });

  it('forgets peers whose window ended, so many passing peers do not pile up', () => {
    let now = 0;
    const budget = new RejectedRowBudget(1, 1_000, () => now);
    for (let i = 0; i < 5_000; i++) {
      now = i * 10;
      budget.take(`peer-${i}`);
    }
    // Only the peers of the last second (and fewer than the sweep threshold) remain.
    expect((budget as unknown as { peers: Map<string, unknown> }).peers.size).toBeLessThan(1_200);
  });
});

describe('ArchiveError: a store error by its SQLSTATE', () => {
  const pgError = (code: string): Error => Object.assign(new Error('driver message with a value'), { code });

  it.each([
    ['22001', 'string_data_right_truncation'],
    ['22021', 'character_not_in_repertoire'],
    ['23502', 'not_null_violation'],
    ['23514', 'check_violation'],
    ['54000', 'program_limit_exceeded (index row too large)'],
  ])('%s (%s) is the row: permanent', (code) => {
    const e = new ArchiveError(pgError(code));
    expect([e.code, e.transient, e.sqlState]).toEqual([ArchiveErrorCode.Refused, false, code]);
    expect(e.message).toBe(`the message store refused the message (SQLSTATE ${code})`);
  });

  it.each([
    ['23505', 'unique_violation, which ON CONFLICT resolves on a retry'],
    ['08006', 'connection_failure'],
    ['57P01', 'admin_shutdown'],
    ['57014', 'query_canceled (statement timeout)'],
    ['53300', 'too_many_connections'],
    ['40001', 'serialization_failure'],
    ['42P01', 'undefined_table: our fault, not the message'],
    ['XX000', 'internal_error'],
  ])('%s (%s) is not the row: transient', (code) => {
    const e = new ArchiveError(pgError(code));
    expect([e.code, e.transient, e.sqlState]).toEqual([ArchiveErrorCode.Unavailable, true, code]);
  });

  it.each([
    ['ECONNREFUSED', Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' })],
    ['EPIPE', Object.assign(new Error('write EPIPE'), { code: 'EPIPE' })],
    ['no code', new Error('Connection terminated unexpectedly')],
    ['a timeout', new Error('Query read timeout')],
    ['not an Error', 'boom'],
  ])('%s is transient, with no SQLSTATE', (_what, err) => {
    const e = new ArchiveError(err);
    expect([e.code, e.transient, e.sqlState]).toEqual([ArchiveErrorCode.Unavailable, true, undefined]);
  });

  it('keeps the driver error as the cause, but not its message, which can quote values', () => {
    const cause = pgError('22001');
    const e = new ArchiveError(cause);
    expect(e.cause).toBe(cause);
    expect(e.message).not.toContain('value');
  });
});
