/**
 * Ingest first. Senders wait on every ACK, while processing can lag a little without harm, so
 * when ingest is busy each processing job waits a moment before it starts. On a small machine
 * that gives the CPU to ACKs during a burst; processing never stops, and catches up after.
 */

export interface IngestPressureOptions {
  /** Ingest rate (messages/s over the last window) above which processing yields. @defaultValue 50 */
  readonly aboveRate?: number;
  /** How long a processing job waits before it starts while ingest is busy. @defaultValue 50 */
  readonly delayMs?: number;
  /** @defaultValue 250 */
  readonly windowMs?: number;
}

export class IngestPressure {
  private readonly aboveRate: number;
  private readonly delayMs: number;
  private readonly windowMs: number;
  private windowStart = Date.now();
  private current = 0;
  private previousRate = 0;

  constructor(options: IngestPressureOptions = {}) {
    this.aboveRate = options.aboveRate ?? 50;
    this.delayMs = options.delayMs ?? 50;
    this.windowMs = options.windowMs ?? 250;
  }

  /** Counts one message acknowledged by the listener. */
  noteIngest(): void {
    this.roll();
    this.current++;
  }

  /** Messages/s in the last complete window. */
  get rate(): number {
    this.roll();
    return this.previousRate;
  }

  /** Resolves at once when ingest is quiet, after `delayMs` when it is busy. */
  async yieldToIngest(): Promise<void> {
    if (this.rate <= this.aboveRate) return;
    await new Promise((resolve) => setTimeout(resolve, this.delayMs));
  }

  private roll(): void {
    const now = Date.now();
    const elapsed = now - this.windowStart;
    if (elapsed < this.windowMs) return;
    // A window with no traffic at all ends the burst: the rate falls to zero.
    this.previousRate = elapsed >= 2 * this.windowMs ? 0 : (this.current * 1000) / elapsed;
    this.current = 0;
    this.windowStart = now;
  }
}
