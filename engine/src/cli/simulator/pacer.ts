/**
 * Pacing shared by every connection, so `--rate 200` means 200 messages a second in total
 * however many connections send. Pure arithmetic on a clock the caller passes in.
 */

/** Hands out send slots at a fixed rate. */
export interface SendPacer {
  /**
   * Takes the next slot and says how long to wait before using it; concurrent senders get
   * distinct, evenly spaced slots.
   * @param nowMs - the current time in milliseconds.
   * @returns milliseconds to wait; 0 when the slot is due now.
   */
  take(nowMs: number): number;
}

/**
 * The pacing a load of several senders shares: slot k falls due at `startMs + k * 1000 / rate`,
 * fixed in advance, as the notification benchmark's sender does. Each sender awaits its ACK
 * before it takes the next slot, so at moments every sender is waiting at once; a bucket that
 * drops the slots falling due then would lower the rate offered whenever ACKs are slow and hide
 * a slow receiver. Here a sender that fell behind sends its late slots at once, so a receiver
 * that cannot keep up shows as a lower achieved rate and longer waits, never as a rate the
 * sender quietly lowered.
 * @param ratePerSec - messages per second in total; 0 or Infinity is unpaced.
 * @param startMs - the clock's start.
 */
export function createSendPacer(ratePerSec: number, startMs: number): SendPacer {
  if (!(ratePerSec > 0) || !Number.isFinite(ratePerSec)) return { take: () => 0 };
  const intervalMs = 1000 / ratePerSec;
  let slot = 0;
  return {
    take(nowMs: number): number {
      const due = startMs + slot * intervalMs;
      slot++;
      return Math.max(0, due - nowMs);
    },
  };
}
