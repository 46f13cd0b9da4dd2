import { EventEmitter } from 'node:events';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { CodedError } from '../../engine/src/errors/coded-error';
import { connectionState, watchConnection } from '../../engine/src/observability/connection-state';
import type { Logger } from '../../engine/src/observability/logger';

interface LogLine {
  readonly level: number;
  readonly msg: string;
  readonly component?: string;
  readonly err?: { readonly code: string; readonly message: string };
  readonly errorsWhileDown?: number;
}

const ERROR = 50;
const INFO = 30;

/** A real pino logger writing JSON lines into an array (pino writes synchronously). */
function capture(): { logger: Logger; lines: LogLine[] } {
  const lines: LogLine[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      for (const text of chunk.toString('utf8').split('\n')) {
        if (text !== '') lines.push(JSON.parse(text) as LogLine);
      }
      callback();
    },
  });
  return { logger: pino({ level: 'info' }, stream), lines };
}

function refused(message = 'connect ECONNREFUSED 127.0.0.1:6379'): Error {
  return Object.assign(new Error(message), { code: 'ECONNREFUSED' });
}

function summary(lines: readonly LogLine[]): string[] {
  return lines.map((l) =>
    l.level === ERROR ? `error ${l.err?.code ?? '?'}` : `info errorsWhileDown=${String(l.errorsWhileDown)}`,
  );
}

describe('connectionState', () => {
  it('logs once when going down, with the component and a one-line error', () => {
    const { logger, lines } = capture();
    connectionState(logger, 'redis producer').down(refused());
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({
      level: ERROR,
      msg: 'redis producer unavailable',
      component: 'redis producer',
      err: { code: 'ECONNREFUSED', message: 'connect ECONNREFUSED 127.0.0.1:6379' },
    });
  });

  it.each<[string, readonly unknown[], string[]]>([
    [
      'the same code repeated is suppressed',
      [refused(), refused(), refused('other text, same code')],
      ['error ECONNREFUSED'],
    ],
    [
      'a changed code logs again',
      [refused(), refused(), Object.assign(new Error('x'), { code: 'ETIMEDOUT' }), refused()],
      ['error ECONNREFUSED', 'error ETIMEDOUT', 'error ECONNREFUSED'],
    ],
    [
      'back up after being down logs once, counting the suppressed repeats',
      [refused(), refused(), refused(), 'up'],
      ['error ECONNREFUSED', 'info errorsWhileDown=2'],
    ],
    ['up when already up logs nothing', ['up', 'up'], []],
    [
      'a second up after recovering logs nothing',
      [refused(), 'up', 'up'],
      ['error ECONNREFUSED', 'info errorsWhileDown=0'],
    ],
    [
      'after recovering, the same code logs again and the count restarts',
      [refused(), refused(), 'up', refused(), refused(), refused(), 'up'],
      ['error ECONNREFUSED', 'info errorsWhileDown=1', 'error ECONNREFUSED', 'info errorsWhileDown=2'],
    ],
    [
      'errors without a code are told apart by name',
      [new Error('a'), new Error('b'), new TypeError('c')],
      ['error Error', 'error TypeError'],
    ],
    [
      'a CodedError is keyed on its code',
      [new CodedError('store-down', 'a'), new CodedError('store-down', 'b')],
      ['error store-down'],
    ],
    ['non-Error values share the code unknown', ['boom', 42, undefined], ['error unknown']],
  ])('%s', (_name, steps, expected) => {
    const { logger, lines } = capture();
    const state = connectionState(logger, 'process worker');
    for (const step of steps) {
      if (step === 'up') state.up();
      else state.down(step);
    }
    expect(summary(lines)).toEqual(expected);
  });

  it('the recovery line names the component', () => {
    const { logger, lines } = capture();
    const state = connectionState(logger, 'postgres');
    state.down(refused());
    state.up();
    expect(lines[1]).toMatchObject({ level: INFO, msg: 'postgres available again', component: 'postgres' });
  });

  it('counts only the suppressed repeats across a change of reason', () => {
    // ECONNREFUSED (logged), ×1 suppressed, ETIMEDOUT (logged), ×2 suppressed: 5 errors, 2 logged.
    const { logger, lines } = capture();
    const state = connectionState(logger, 'redis');
    const timedOut = (): Error => Object.assign(new Error('t'), { code: 'ETIMEDOUT' });
    for (const err of [refused(), refused(), timedOut(), timedOut(), timedOut()]) state.down(err);
    state.up();
    expect(summary(lines)).toEqual(['error ECONNREFUSED', 'error ETIMEDOUT', 'info errorsWhileDown=3']);
  });

  it('keeps components independent', () => {
    const { logger, lines } = capture();
    const a = connectionState(logger, 'a');
    const b = connectionState(logger, 'b');
    a.down(refused());
    b.down(refused());
    a.up();
    b.down(refused());
    expect(lines.map((l) => `${l.component ?? '?'}: ${l.msg}`)).toEqual([
      'a: a unavailable',
      'b: b unavailable',
      'a: a available again',
    ]);
  });
});

describe('watchConnection', () => {
  it('marks the component down on `error` and up on the up event', () => {
    const { logger, lines } = capture();
    const emitter = new EventEmitter();
    watchConnection(emitter, logger, 'redis producer', 'ready');
    emitter.emit('error', refused());
    emitter.emit('error', refused());
    emitter.emit('ready');
    emitter.emit('ready');
    expect(summary(lines)).toEqual(['error ECONNREFUSED', 'info errorsWhileDown=1']);
    expect(lines.every((l) => l.component === 'redis producer')).toBe(true);
  });

  it('without an up event only errors are watched, and an emitted error no longer throws', () => {
    const { logger, lines } = capture();
    const emitter = new EventEmitter();
    const state = watchConnection(emitter, logger, 'deliver worker');
    expect(() => emitter.emit('error', refused())).not.toThrow();
    emitter.emit('ready');
    expect(summary(lines)).toEqual(['error ECONNREFUSED']);
    // The returned state is the same one the listeners drive.
    state.up();
    expect(summary(lines)).toEqual(['error ECONNREFUSED', 'info errorsWhileDown=0']);
  });

  it('listens with one listener per event', () => {
    const { logger } = capture();
    const emitter = new EventEmitter();
    watchConnection(emitter, logger, 'x', 'ready');
    expect([emitter.listenerCount('error'), emitter.listenerCount('ready')]).toEqual([1, 1]);
  });
});
