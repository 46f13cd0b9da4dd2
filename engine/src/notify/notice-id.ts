/**
 * The id a receiver sees for a notice (Bundle.identifier, MessageHeader.id, webhook id): derived
 * from the event and the recipient, so the same notice has the same id on every attempt and
 * after any redo, and a receiver can drop a retry whose answer was lost.
 */
import { createHash } from 'node:crypto';

/** A name-based UUID (RFC 4122 version 5 layout over SHA-1) of the event key and the target. */
export function noticeIdOf(eventKey: string, channel: string, target: string): string {
  const h = createHash('sha1').update(`care-notice\u0000${eventKey}\u0000${channel}\u0000${target}`).digest();
  h[6] = ((h[6] ?? 0) & 0x0f) | 0x50;
  h[8] = ((h[8] ?? 0) & 0x3f) | 0x80;
  const hex = h.subarray(0, 16).toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
}
