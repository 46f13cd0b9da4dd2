import { describe, expect, it } from 'vitest';
import { frameMllp, MllpFrameReader, type MllpEvent } from '../../engine/src/hl7/mllp-frame-reader';

const payloads = (events: MllpEvent[]): string[] =>
  events.map((e) => (e.kind === 'oversize' ? `oversize:${e.size}` : `${e.kind}:${e.payload.toString()}`));

describe('MllpFrameReader', () => {
  it('reads several frames from one chunk, in order', () => {
    const r = new MllpFrameReader();
    const chunk = Buffer.concat([frameMllp('M1'), frameMllp('M2'), frameMllp('M3')]);
    expect(payloads(r.push(chunk))).toEqual(['frame:M1', 'frame:M2', 'frame:M3']);
    expect(r.hasPartialFrame).toBe(false);
  });

  it('reassembles a frame split over many chunks, byte by byte, footer split too', () => {
    const r = new MllpFrameReader();
    const bytes = Buffer.concat([frameMllp('MSH|^~\\&|A'), frameMllp('B')]);
    const events: MllpEvent[] = [];
    for (const b of bytes) events.push(...r.push(Buffer.of(b)));
    expect(payloads(events)).toEqual(['frame:MSH|^~\\&|A', 'frame:B']);
  });

  it('splits exactly between FS and CR', () => {
    const r = new MllpFrameReader();
    const f = frameMllp('HELLO');
    expect(r.push(f.subarray(0, f.length - 1))).toEqual([]);
    expect(payloads(r.push(f.subarray(f.length - 1)))).toEqual(['frame:HELLO']);
  });

  it('ignores and counts bytes outside frames', () => {
    const r = new MllpFrameReader();
    const chunk = Buffer.concat([
      Buffer.from('junk\r\n'),
      frameMllp('A'),
      Buffer.from('xx'),
      frameMllp('B'),
      Buffer.from('\n'),
    ]);
    expect(payloads(r.push(chunk))).toEqual(['frame:A', 'frame:B']);
    expect(r.junkBytes).toBe(6 + 2 + 1);
  });

  it('keeps an FS not followed by CR as payload', () => {
    const r = new MllpFrameReader();
    const chunk = Buffer.concat([
      Buffer.of(0x0b),
      Buffer.from('A'),
      Buffer.of(0x1c),
      Buffer.from('B'),
      Buffer.of(0x1c, 0x0d),
    ]);
    const [event] = r.push(chunk);
    expect(event?.kind).toBe('frame');
    expect(event?.kind === 'frame' && [...event.payload]).toEqual([0x41, 0x1c, 0x42]);
  });

  it('keeps an FS at a chunk end that turns out not to close the frame', () => {
    const r = new MllpFrameReader();
    expect(r.push(Buffer.concat([Buffer.of(0x0b), Buffer.from('A'), Buffer.of(0x1c)]))).toEqual([]);
    const [event] = r.push(Buffer.concat([Buffer.from('B'), Buffer.of(0x1c, 0x0d)]));
    expect(event?.kind === 'frame' && [...event.payload]).toEqual([0x41, 0x1c, 0x42]);
  });

  it('reports an oversize frame once it ends, keeps only its head, and stays in sync', () => {
    const r = new MllpFrameReader({ maxFrameBytes: 100, headBytes: 10 });
    const big = 'MSH|' + 'x'.repeat(500);
    const events: MllpEvent[] = [];
    const bytes = Buffer.concat([frameMllp(big), frameMllp('NEXT')]);
    for (let i = 0; i < bytes.length; i += 37) {
      events.push(...r.push(bytes.subarray(i, i + 37)));
      expect(r.bufferedBytes).toBeLessThanOrEqual(100);
    }
    expect(events[0]).toMatchObject({ kind: 'oversize', size: big.length });
    expect(events[0]?.kind === 'oversize' && events[0].head.toString()).toBe(big.slice(0, 10));
    expect(payloads(events.slice(1))).toEqual(['frame:NEXT']);
  });

  it('never holds more than the limit for a frame that never ends (slowloris)', () => {
    const r = new MllpFrameReader({ maxFrameBytes: 1000 });
    r.push(Buffer.of(0x0b));
    for (let i = 0; i < 1000; i++) r.push(Buffer.alloc(100, 0x41));
    expect(r.bufferedBytes).toBeLessThanOrEqual(1000);
    expect(r.hasPartialFrame).toBe(true);
  });

  it('reports a frame cut short by a new start block as truncated', () => {
    const r = new MllpFrameReader();
    const chunk = Buffer.concat([Buffer.of(0x0b), Buffer.from('MSH|half'), frameMllp('WHOLE')]);
    expect(payloads(r.push(chunk))).toEqual(['truncated:MSH|half', 'frame:WHOLE']);
  });

  describe('hasIncompleteInput (what the frame deadline runs on)', () => {
    const fed = (...chunks: (Buffer | string)[]): MllpFrameReader => {
      const r = new MllpFrameReader();
      for (const c of chunks) r.push(typeof c === 'string' ? Buffer.from(c, 'latin1') : c);
      return r;
    };

    it('is false before any byte and after a finished frame', () => {
      expect(fed().hasIncompleteInput).toBe(false);
      expect(fed(frameMllp('A')).hasIncompleteInput).toBe(false);
    });

    it('is true from a start byte, through FS split from its CR, until the frame ends', () => {
      const f = frameMllp('HELLO');
      expect(fed(f.subarray(0, 1)).hasIncompleteInput).toBe(true);
      expect(fed(f.subarray(0, f.length - 1)).hasIncompleteInput).toBe(true);
      expect(fed(f.subarray(0, f.length - 1), f.subarray(f.length - 1)).hasIncompleteInput).toBe(false);
    });

    it('is true for bytes outside frames, before the first frame or after one, until a frame ends', () => {
      expect(fed('x').hasIncompleteInput).toBe(true);
      expect(fed('\r').hasIncompleteInput).toBe(true);
      expect(fed(frameMllp('A'), 'x').hasIncompleteInput).toBe(true);
      expect(fed(frameMllp('A'), 'x', '\x0b').hasIncompleteInput).toBe(true);
      expect(fed('noise', frameMllp('A')).hasIncompleteInput).toBe(false);
    });

    it('lets up to two CR/LF bytes follow an end block, in any chunks, but no more', () => {
      expect(fed(frameMllp('A'), '\n').hasIncompleteInput).toBe(false);
      expect(fed(frameMllp('A'), '\r', '\n').hasIncompleteInput).toBe(false);
      expect(fed(Buffer.concat([frameMllp('A'), Buffer.from('\r\n')])).hasIncompleteInput).toBe(false);
      expect(fed(frameMllp('A'), '\r\n\r').hasIncompleteInput).toBe(true);
      expect(fed(frameMllp('A'), '\n', '\n', '\n').hasIncompleteInput).toBe(true);
      expect(fed(frameMllp('A'), 'x\n').hasIncompleteInput).toBe(true);
      // The allowance is per frame: a second frame earns it again.
      expect(fed(frameMllp('A'), '\r\n', frameMllp('B'), '\r\n').hasIncompleteInput).toBe(false);
    });

    it('stays true across a frame abandoned by a new start byte', () => {
      const r = fed('\x0bA');
      expect(payloads(r.push(Buffer.from('\x0bB')))).toEqual(['truncated:A']);
      expect(r.hasIncompleteInput).toBe(true);
    });

    it('still counts trailer bytes as junk', () => {
      const r = fed(frameMllp('A'), '\r\n');
      expect([r.hasIncompleteInput, r.junkBytes]).toEqual([false, 2]);
    });
  });
});
