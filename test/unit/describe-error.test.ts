import { describe, expect, it } from 'vitest';
import { CodedError } from '../../engine/src/errors/coded-error';
import { describeError } from '../../engine/src/observability/describe-error';

const LONG = 'x'.repeat(500);

describe('describeError', () => {
  it.each<[string, unknown, { code: string; message: string }]>([
    ['a plain Error: code is its name', new Error('boom'), { code: 'Error', message: 'boom' }],
    [
      'a TypeError',
      new TypeError('x is not a function'),
      { code: 'TypeError', message: 'x is not a function' },
    ],
    [
      'a driver error: code is its string .code',
      Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' }),
      { code: 'ECONNREFUSED', message: 'connect ECONNREFUSED 127.0.0.1:5432' },
    ],
    [
      'a PostgreSQL error (SQLSTATE code)',
      Object.assign(new Error('terminating connection due to administrator command'), { code: '57P01' }),
      { code: '57P01', message: 'terminating connection due to administrator command' },
    ],
    ['a CodedError', new CodedError('no-msh', 'no MSH'), { code: 'no-msh', message: 'no MSH' }],
    [
      'a numeric .code falls back to the name',
      Object.assign(new RangeError('m'), { code: 42 }),
      { code: 'RangeError', message: 'm' },
    ],
    [
      'an empty-string .code is still a string code',
      Object.assign(new Error('m'), { code: '' }),
      { code: '', message: 'm' },
    ],
    [
      'a renamed Error without a code',
      Object.assign(new Error('m'), { name: 'MaxRetriesPerRequestError' }),
      { code: 'MaxRetriesPerRequestError', message: 'm' },
    ],
    [
      'a multi-line message is cut at the first newline',
      new Error('duplicate key value\nDETAIL: Key (mrn)=(123) already exists.'),
      { code: 'Error', message: 'duplicate key value' },
    ],
    ['a message starting with a newline', new Error('\nsecond'), { code: 'Error', message: '' }],
    ['an empty message', new Error(''), { code: 'Error', message: '' }],
    ['a long message is truncated at 300', new Error(LONG), { code: 'Error', message: 'x'.repeat(300) }],
    [
      'exactly 300 characters is kept',
      new Error('y'.repeat(300)),
      { code: 'Error', message: 'y'.repeat(300) },
    ],
    ['301 characters loses one', new Error('z'.repeat(301)), { code: 'Error', message: 'z'.repeat(300) }],
    [
      'a long first line is truncated after the newline cut',
      new Error(`${LONG}\nsecret`),
      { code: 'Error', message: 'x'.repeat(300) },
    ],
    ['a thrown string', 'boom', { code: 'unknown', message: 'boom' }],
    ['a thrown multi-line string', 'first\nsecond', { code: 'unknown', message: 'first' }],
    ['a thrown number', 42, { code: 'unknown', message: '42' }],
    ['null', null, { code: 'unknown', message: 'null' }],
    ['undefined', undefined, { code: 'unknown', message: 'undefined' }],
    [
      'an error-like object is not an Error: its fields are not read',
      { name: 'Hl7ParseError', code: 'no-msh', message: 'no MSH' },
      { code: 'unknown', message: '[object Object]' },
    ],
  ])('%s', (_name, err, expected) => {
    expect(describeError(err)).toStrictEqual(expected);
  });

  it('never returns a message with a newline, whatever it is given', () => {
    for (const err of [new Error('a\nb\nc'), 'a\nb', new Error(`${'q'.repeat(299)}\n`)]) {
      expect(describeError(err).message).not.toContain('\n');
    }
  });

  // BUG (reported): only Error messages are capped at 300 characters; a thrown non-Error value
  // goes through `String(err).split('\n')[0]` without `.slice(0, 300)`, so a thrown string (or
  // an object whose toString returns a long text, e.g. a whole payload) reaches the log whole.
  // Proposed fix: apply the same `.slice(0, 300)` on the non-Error branch.
  it('caps a thrown non-Error value at 300 characters too', () => {
    expect(describeError(LONG).message).toHaveLength(300);
  });

  // BUG (reported): "one line" cuts at LF only. HL7 v2 separates segments with CR, so an error
  // message quoting message text (`MSH|...\rPID|...`) keeps every following segment — the PHI
  // this module promises never to log — up to the 300 cap. Proposed fix: split on /\r\n|\r|\n/
  // (the SEGMENT_SPLIT of parse-message.ts).
  it('cuts the message at a CR as well (HL7 segment separator)', () => {
    expect(describeError(new Error('bad segment: MSH|^~\\&|A\rPID|1||123||Doe^Jane')).message).toBe(
      'bad segment: MSH|^~\\&|A',
    );
  });
});
