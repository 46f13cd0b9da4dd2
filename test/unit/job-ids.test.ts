import { describe, expect, it } from 'vitest';
import { deliverJobId } from '../../engine/src/queue/deliver-queue';
import { notifyJobId } from '../../engine/src/queue/notify-queue';
import { messageJobId, traceIdOf } from '../../engine/src/queue/process-queue';
import type { MessageJobRef } from '../../engine/src/store/message-archive';
import type { OutboxRef } from '../../engine/src/store/outbox';

const STAMP = '1764075600123456';

describe('messageJobId', () => {
  it.each<[string, MessageJobRef, string]>([
    ['a first run', { id: '42', stamp: STAMP, parkCount: 0 }, `m-42-${STAMP}`],
    ['a wake-up after one park', { id: '42', stamp: STAMP, parkCount: 1 }, `m-42-${STAMP}-w1`],
    ['a wake-up after three parks', { id: '42', stamp: STAMP, parkCount: 3 }, `m-42-${STAMP}-w3`],
    ['a large row id', { id: '9007199254740993', stamp: '1', parkCount: 0 }, 'm-9007199254740993-1'],
  ])('%s', (_name, ref, expected) => {
    expect(messageJobId(ref)).toBe(expected);
  });

  it('never contains ":" (BullMQ reserves it)', () => {
    for (const parkCount of [0, 1, 2, 17]) {
      expect(messageJobId({ id: '7', stamp: STAMP, parkCount })).not.toContain(':');
    }
  });

  it('differs for the same row id with another receipt time (a fresh database reuses ids)', () => {
    const before = messageJobId({ id: '1', stamp: '1764075600000001', parkCount: 0 });
    const after = messageJobId({ id: '1', stamp: '1764162000000001', parkCount: 0 });
    expect(after).not.toBe(before);
  });

  it('differs for each wake-up, and from the first run', () => {
    const ids = [0, 1, 2, 3].map((parkCount) => messageJobId({ id: '5', stamp: STAMP, parkCount }));
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('is stable: the same reference gives the same id (a re-add is ignored by BullMQ)', () => {
    const ref: MessageJobRef = { id: '8', stamp: STAMP, parkCount: 2 };
    expect(messageJobId({ ...ref })).toBe(messageJobId(ref));
  });
});

describe('traceIdOf', () => {
  it('derives from the row, not the job: every run of a message shares it', () => {
    const runs = [0, 1, 5].map((parkCount) =>
      traceIdOf({ id: '42', stamp: STAMP, parkCount } as MessageJobRef),
    );
    expect(new Set(runs)).toEqual(new Set([`t-42-${STAMP}`]));
  });

  it('differs for the same row id with another receipt time', () => {
    expect(traceIdOf({ id: '1', stamp: '100' })).not.toBe(traceIdOf({ id: '1', stamp: '200' }));
  });

  it('is not the job id', () => {
    const ref: MessageJobRef = { id: '42', stamp: STAMP, parkCount: 0 };
    expect(traceIdOf(ref)).not.toBe(messageJobId(ref));
  });
});

describe('notifyJobId', () => {
  it.each<[OutboxRef, string]>([
    [{ id: '1', stamp: STAMP }, `e-1-${STAMP}`],
    [{ id: '31337', stamp: '1' }, 'e-31337-1'],
  ])('%o → %s', (ref, expected) => {
    expect(notifyJobId(ref)).toBe(expected);
    expect(notifyJobId(ref)).not.toContain(':');
  });

  it('differs for the same outbox id with another creation time (a fresh database reuses ids)', () => {
    expect(notifyJobId({ id: '1', stamp: '1764075600000001' })).not.toBe(
      notifyJobId({ id: '1', stamp: '1764162000000001' }),
    );
  });

  it('never collides with a processing job of the same row id and time', () => {
    expect(notifyJobId({ id: '1', stamp: STAMP })).not.toBe(
      messageJobId({ id: '1', stamp: STAMP, parkCount: 0 }),
    );
  });
});

describe('deliverJobId', () => {
  it('names a notice by row id and creation time, and a later retry round apart', () => {
    const ref = { id: '7', stamp: STAMP };
    expect(deliverJobId(ref)).toBe(`n-7-${STAMP}`);
    expect(deliverJobId(ref, 2)).toBe(`n-7-${STAMP}-r2`);
    expect(deliverJobId(ref)).not.toBe(notifyJobId(ref));
    expect(deliverJobId(ref, 1)).not.toContain(':');
  });
});
