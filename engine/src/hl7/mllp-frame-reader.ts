/**
 * MLLP framing on bytes (0x0B payload 0x1C 0x0D), written here because node-hl7-server 2.5.0
 * re-delivered earlier frames on a persistent connection. Pure: no sockets, bounded memory.
 */

const VT = 0x0b;
const FS = 0x1c;
const CR = 0x0d;
const LF = 0x0a;
/** Line-ending bytes a sender may put after an end block without it counting as stray. */
const TRAILER_BYTES = 2;

export type MllpEvent =
  /** A complete frame's payload. */
  | { readonly kind: 'frame'; readonly payload: Buffer }
  /** A frame over the size limit; only its first `head` bytes were kept, to name it in the AR. */
  | { readonly kind: 'oversize'; readonly size: number; readonly head: Buffer }
  /** A start block arrived inside an open frame: the earlier frame never ended. */
  | { readonly kind: 'truncated'; readonly payload: Buffer };

export interface MllpFrameReaderOptions {
  /** Largest payload accepted. @defaultValue 1 MiB */
  readonly maxFrameBytes?: number;
  /** Bytes kept of an oversize frame so its MSH can still be read. @defaultValue 4096 */
  readonly headBytes?: number;
}

/** Splits a byte stream into MLLP frames; feed it chunks as they arrive. */
export class MllpFrameReader {
  /** Bytes seen outside any frame (noise, keep-alives, stray CRs). */
  junkBytes = 0;
  private readonly maxFrameBytes: number;
  private readonly headBytes: number;
  private inFrame = false;
  private parts: Buffer[] = [];
  private size = 0;
  private oversize = false;
  /** The previous chunk ended with FS: a CR at the start of the next one closes the frame. */
  private pendingFs = false;
  /** Bytes outside frames since the last frame ended, beyond a line-ending trailer. */
  private strayBytes = false;
  /** CR/LF bytes still allowed after the last end block before junk counts as stray. */
  private trailerLeft = 0;

  constructor(options: MllpFrameReaderOptions = {}) {
    this.maxFrameBytes = options.maxFrameBytes ?? 1024 * 1024;
    this.headBytes = Math.min(options.headBytes ?? 4096, this.maxFrameBytes);
  }

  /** Bytes held for the frame in progress (never more than the limit). */
  get bufferedBytes(): number {
    return this.oversize ? this.headBytes : this.size;
  }

  /** True while a frame has started and not ended. */
  get hasPartialFrame(): boolean {
    return this.inFrame;
  }

  /**
   * True while bytes have arrived that no finished frame has accounted for: a frame in progress,
   * or bytes outside frames since the last frame ended. Up to two CR/LF bytes right after an end
   * block do not count (some senders end every frame with CR LF), so a connection that goes quiet
   * after its last message is idle, not stuck in a frame; anything else does, so that a sender
   * trickling noise cannot look busy forever. An abandoned (truncated) frame does not clear it.
   */
  get hasIncompleteInput(): boolean {
    return this.inFrame || this.strayBytes;
  }

  /** Consumes one chunk and returns the events it completed, in order. */
  push(chunk: Buffer): MllpEvent[] {
    // An empty read says nothing, and must not settle a pending FS as data.
    if (chunk.length === 0) return [];
    const events: MllpEvent[] = [];
    let i = 0;
    if (this.pendingFs) {
      this.pendingFs = false;
      if (chunk[0] === CR) {
        events.push(this.finishFrame());
        i = 1;
      } else {
        this.append(Buffer.of(FS));
      }
    }
    while (i < chunk.length) {
      if (!this.inFrame) {
        const start = chunk.indexOf(VT, i);
        this.noteJunk(chunk, i, start < 0 ? chunk.length : start);
        if (start < 0) break;
        this.startFrame();
        i = start + 1;
        continue;
      }
      i = this.scanFrame(chunk, i, events);
    }
    return events;
  }

  /**
   * Scans inside an open frame from `i`; returns where scanning continues. The frame's bytes in
   * this chunk run to its end block (FS CR), a start block (the frame was abandoned) or the end of
   * the chunk, and are kept as one piece: a lone FS is data, and a payload full of them must cost
   * neither a buffer nor a rescan each.
   */
  private scanFrame(chunk: Buffer, i: number, events: MllpEvent[]): number {
    let fs = chunk.indexOf(FS, i);
    while (fs >= 0 && fs < chunk.length - 1 && chunk[fs + 1] !== CR) fs = chunk.indexOf(FS, fs + 1);
    const end = fs < 0 ? chunk.length : fs;
    const vt = chunk.subarray(i, end).indexOf(VT);
    if (vt >= 0) {
      this.append(chunk.subarray(i, i + vt));
      events.push(this.abandonFrame());
      this.startFrame();
      return i + vt + 1;
    }
    this.append(chunk.subarray(i, end));
    if (fs < 0) return chunk.length;
    if (fs === chunk.length - 1) {
      // FS last in the chunk: the next chunk's first byte says whether it ends the frame.
      this.pendingFs = true;
      return chunk.length;
    }
    events.push(this.finishFrame());
    return fs + 2;
  }

  private noteJunk(chunk: Buffer, from: number, to: number): void {
    this.junkBytes += to - from;
    for (let j = from; j < to && !this.strayBytes; j++) {
      const b = chunk[j];
      if (this.trailerLeft > 0 && (b === CR || b === LF)) this.trailerLeft--;
      else this.strayBytes = true;
    }
  }

  private startFrame(): void {
    this.inFrame = true;
    this.trailerLeft = 0;
    this.parts = [];
    this.size = 0;
    this.oversize = false;
  }

  private append(bytes: Buffer): void {
    if (bytes.length === 0) return;
    this.size += bytes.length;
    if (this.oversize) return;
    if (this.size > this.maxFrameBytes) {
      // Keep only the head: a slow or hostile sender cannot make us hold more than the limit.
      const head = Buffer.concat([...this.parts, bytes]).subarray(0, this.headBytes);
      this.parts = [Buffer.from(head)];
      this.oversize = true;
      return;
    }
    this.parts.push(bytes);
  }

  private finishFrame(): MllpEvent {
    const event: MllpEvent = this.oversize
      ? { kind: 'oversize', size: this.size, head: this.parts[0] ?? Buffer.alloc(0) }
      : { kind: 'frame', payload: Buffer.concat(this.parts, this.size) };
    this.reset();
    this.strayBytes = false;
    this.trailerLeft = TRAILER_BYTES;
    return event;
  }

  private abandonFrame(): MllpEvent {
    const event: MllpEvent = this.oversize
      ? { kind: 'oversize', size: this.size, head: this.parts[0] ?? Buffer.alloc(0) }
      : { kind: 'truncated', payload: Buffer.concat(this.parts, this.size) };
    this.reset();
    return event;
  }

  private reset(): void {
    this.inFrame = false;
    this.parts = [];
    this.size = 0;
    this.oversize = false;
  }
}

/** Wraps a payload in MLLP start and end blocks. */
export function frameMllp(payload: Buffer | string): Buffer {
  const body = typeof payload === 'string' ? Buffer.from(payload, 'utf8') : payload;
  return Buffer.concat([Buffer.of(VT), body, Buffer.of(FS, CR)]);
}
