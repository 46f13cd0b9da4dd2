/**
 * Ingest first. Senders wait on every ACK, while processing can lag a little without harm, so
 * during an ingest burst each processing job waits a moment before it starts. On a small machine
 * that gives the CPU to ACKs; processing never stops, and catches up after. The threshold sits
 * above what steady hospital feeds send, and once the lag it builds reaches `maxBacklog` the gate
 * opens: a sustained load must not leave PCP notifications ever further behind.
 */

export interface IngestPressureOptions {
  /** Ingest rate (messages/s over the last window) above which processing yields. @defaultValue 200 */
  readonly aboveRate?: number;
  /** Messages acknowledged here and not yet processed here beyond which processing stops yielding. @defaultValue 50000 */
  readonly maxBacklog?: number;
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
  private readonly maxBacklog: number;
  private ingested = 0;
  private processed = 0;

  constructor(options: IngestPressureOptions = {}) {
    this.aboveRate = options.aboveRate ?? 200;
    this.maxBacklog = options.maxBacklog ?? 50_000;
    this.delayMs = options.delayMs ?? 50;
    this.windowMs = options.windowMs ?? 250;
  }

  /** Counts one message acknowledged by the listener. */
  noteIngest(): void {
    this.roll();
    this.current++;
    this.ingested++;
  }

  /** Counts one processing job finished (whatever its outcome). */
  noteProcessed(): void {
    this.processed++;
  }

  /** Messages/s in the last complete window. */
  get rate(): number {
    this.roll();
    return this.previousRate;
  }

  /** Resolves at once when ingest is quiet or the backlog is long, after `delayMs` when ingest is busy. */
  async yieldToIngest(): Promise<void> {
    if (this.rate <= this.aboveRate || this.ingested - this.processed > this.maxBacklog) return;
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
