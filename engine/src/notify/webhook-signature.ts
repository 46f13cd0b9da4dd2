/**
 * Signatures for generic webhook receivers that cannot validate a SMART token: an HMAC over the
 * timestamp and the exact body (Stripe's scheme), so a receiver can tell our notices from forged
 * ones and refuse a captured one replayed later.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

/** The request header carrying `t=<unix seconds>,v1=<hex HMAC-SHA256>`. */
export const WEBHOOK_SIGNATURE_HEADER = 'X-Care-Signature';

/** How far a signature's timestamp may be from the receiver's clock, by default. */
export const DEFAULT_SIGNATURE_TOLERANCE_SEC = 300;

function hmacHex(secret: string, timestamp: number, body: string): string {
  return createHmac('sha256', secret).update(`${timestamp}.${body}`, 'utf8').digest('hex');
}

/**
 * The `X-Care-Signature` value for a body sent now.
 * @param secret - the endpoint's shared secret.
 * @param body - the exact bytes sent, as text.
 * @param nowSec - the current Unix time in seconds (fractions dropped).
 */
export function signWebhook(secret: string, body: string, nowSec: number): string {
  const t = Math.floor(nowSec);
  return `t=${t},v1=${hmacHex(secret, t, body)}`;
}

const HEX_SHA256 = /^[0-9a-f]{64}$/i;

/**
 * Whether a signature header is ours for this body and recent. Several `v1` values are accepted
 * (any one matching), so a secret can be rotated by signing with both for a while.
 * @param secret - the shared secret.
 * @param body - the body exactly as received.
 * @param header - the header value, if present.
 * @param nowSec - the receiver's Unix time in seconds.
 * @param toleranceSec - the largest accepted distance between `t` and now, either way.
 */
export function verifyWebhookSignature(
  secret: string,
  body: string,
  header: string | undefined,
  nowSec: number,
  toleranceSec: number = DEFAULT_SIGNATURE_TOLERANCE_SEC,
): boolean {
  if (header === undefined) return false;
  let timestamp: number | undefined;
  const candidates: string[] = [];
  for (const part of header.split(',')) {
    const eq = part.indexOf('=');
    if (eq < 0) continue;
    const key = part.slice(0, eq).trim();
    const value = part.slice(eq + 1).trim();
    if (key === 't' && /^\d+$/.test(value)) timestamp = Number(value);
    else if (key === 'v1' && HEX_SHA256.test(value)) candidates.push(value);
  }
  if (timestamp === undefined || candidates.length === 0) return false;
  if (Math.abs(nowSec - timestamp) > toleranceSec) return false;
  const expected = Buffer.from(hmacHex(secret, timestamp, body), 'hex');
  // Every candidate is compared, so the time taken does not say which one (if any) matched.
  let matched = false;
  for (const candidate of candidates) {
    if (timingSafeEqual(expected, Buffer.from(candidate, 'hex'))) matched = true;
  }
  return matched;
}
