import { describe, expect, it } from 'vitest';
import { CodedError, errorGuard, isTransient } from '../../engine/src/errors/coded-error';
import { Hl7ErrorCode, Hl7ParseError, isHl7ParseError } from '../../engine/src/hl7/hl7-error';

class StoreAway extends CodedError<'store-away'> {
  override readonly name = 'StoreAway';
}
const isStoreAway = errorGuard<StoreAway>('StoreAway');

/** What an error becomes after crossing JSON (Redis, an HTTP body): own enumerable fields only. */
function jsonRoundTrip(value: unknown): unknown {
  return JSON.parse(JSON.stringify(value));
}

describe('isTransient', () => {
  it.each<[string, unknown, boolean]>([
    ['a CodedError by default', new CodedError('bad-input', 'm'), false],
    ['a CodedError with transient: true', new CodedError('store-away', 'm', { transient: true }), true],
    ['a CodedError with transient: false', new CodedError('bad-input', 'm', { transient: false }), false],
    ['a CodedError subclass by default', new Hl7ParseError(Hl7ErrorCode.NoMsh, 'm'), false],
    ['a plain Error (a dropped connection, a timeout)', new Error('socket hang up'), true],
    ['a TypeError', new TypeError('x is undefined'), true],
    ['a driver error with a code but no transient', Object.assign(new Error('m'), { code: '57P01' }), true],
    [
      'an error with transient: "false" (not a boolean)',
      Object.assign(new Error('m'), { transient: 'false' }),
      true,
    ],
    ['an error with transient: 0', Object.assign(new Error('m'), { transient: 0 }), true],
    ['an error with transient: null', Object.assign(new Error('m'), { transient: null }), true],
    ['an error with transient: undefined', Object.assign(new Error('m'), { transient: undefined }), true],
    ['an error whose prototype says transient: false', Object.create({ transient: false }) as object, false],
    [
      'an error that lost its prototype ({name, message, transient:false} through JSON)',
      jsonRoundTrip({ name: 'CodedError', message: 'm', transient: false }),
      false,
    ],
    ['a real CodedError through JSON', jsonRoundTrip(new CodedError('bad-input', 'm')), false],
    [
      'a transient CodedError through JSON',
      jsonRoundTrip(new CodedError('x', 'm', { transient: true })),
      true,
    ],
    ['a thrown string', 'boom', true],
    ['a thrown number', 42, true],
    ['null', null, true],
    ['undefined', undefined, true],
    ['an empty object', {}, true],
  ])('%s → %s', (_name, err, expected) => {
    expect(isTransient(err)).toBe(expected);
  });
});

describe('CodedError', () => {
  it('keeps code, message, transient, cause and its name', () => {
    const cause = new Error('root');
    const err = new StoreAway('store-away', 'the store is away', { transient: true, cause });
    expect(err).toBeInstanceOf(Error);
    expect({ name: err.name, code: err.code, message: err.message, transient: err.transient }).toEqual({
      name: 'StoreAway',
      code: 'store-away',
      message: 'the store is away',
      transient: true,
    });
    expect(err.cause).toBe(cause);
  });
});

describe('errorGuard', () => {
  it.each<[string, unknown, boolean]>([
    ['an instance', new StoreAway('store-away', 'm'), true],
    [
      'an Error of another class that carries the name',
      Object.assign(new Error('m'), { name: 'StoreAway' }),
      true,
    ],
    ['another CodedError', new CodedError('store-away', 'm'), false],
    ['a plain Error', new Error('StoreAway'), false],
    ['an Error whose name differs in case', Object.assign(new Error('m'), { name: 'storeaway' }), false],
    ['a string', 'StoreAway', false],
    ['null', null, false],
    ['undefined', undefined, false],
  ])('%s → %s', (_name, err, expected) => {
    expect(isStoreAway(err)).toBe(expected);
  });

  it('narrows to the kind, so its fields are readable', () => {
    const err: unknown = new Hl7ParseError(Hl7ErrorCode.BadSegment, 'segment 3 has no name', 'segment 3');
    expect(isHl7ParseError(err) ? [err.code, err.location] : []).toEqual(['bad-segment', 'segment 3']);
    expect(isStoreAway(err)).toBe(false);
  });

  it('needs an Error: a shape that crossed JSON is not taken for one (isTransient reads those)', () => {
    const sent = new Hl7ParseError(Hl7ErrorCode.NoMsh, 'no MSH');
    const received = jsonRoundTrip({
      name: sent.name,
      message: sent.message,
      code: sent.code,
      transient: false,
    });
    expect(isHl7ParseError(received)).toBe(false);
    expect(isTransient(received)).toBe(false);
  });
});
