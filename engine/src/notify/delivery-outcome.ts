/**
 * What an attempt to deliver a notice means for the notice: delivered, never resend, or resend
 * later. One place decides, following the Da Vinci Unsolicited Notifications "Reliable Delivery"
 * table, so the worker, the breaker and the admin API agree on what a 401 or a 503 means.
 */
import { isTransient } from '../errors/coded-error';
import { describeError } from '../observability/describe-error';
import { DeliveryErrorCode, isDeliveryError } from './notify-error';
import { parseRetryAfter } from './retry-delay';
import type { HttpAnswer } from './safe-http-client';

export type DeliveryVerdict =
  | { readonly kind: 'delivered' }
  | { readonly kind: 'permanent'; readonly reason: string; readonly status?: number }
  | { readonly kind: 'retry'; readonly reason: string; readonly status?: number; readonly afterMs?: number };

/** A receiver asking for more than this is retried after this: a notice a day late is no notice. */
export const MAX_RETRY_AFTER_MS = 60 * 60 * 1000;

/**
 * The verdict on an HTTP answer. Da Vinci (framework, Reliable Delivery): success is 200, 202 or
 * 204, and any 2xx is taken as accepted because resending it would duplicate the notice; 401 and
 * 404 are not resent until someone fixes the endpoint, and 400 and 403 are as hopeless; 429 is
 * resent more slowly (honouring Retry-After, up to an hour); 5xx may be retried, and so may 408.
 * Redirects are not followed (a 3xx could point anywhere, including inside our network), so a 3xx
 * is permanent until the endpoint address is updated. Reasons carry the status only, never the
 * answer's body.
 * @param answer - what the receiver said.
 * @param now - epoch milliseconds, to read a Retry-After date.
 */
export function classifyAnswer(answer: HttpAnswer, now: number = Date.now()): DeliveryVerdict {
  const { status } = answer;
  if (status >= 200 && status <= 299) return { kind: 'delivered' };
  if (status >= 300 && status <= 399) {
    return {
      kind: 'permanent',
      status,
      reason: `receiver answered ${status}: redirects are not followed; update the endpoint address`,
    };
  }
  if (status === 429 || status === 408 || (status >= 500 && status <= 599)) {
    const afterMs = retryAfter(answer, now);
    return {
      kind: 'retry',
      status,
      reason: `receiver answered ${status}: ${status === 429 ? 'too many requests' : 'not available now'}`,
      ...(afterMs !== undefined ? { afterMs } : {}),
    };
  }
  if (status >= 400 && status <= 499) {
    return { kind: 'permanent', status, reason: `receiver answered ${status}: ${rejectionHint(status)}` };
  }
  return { kind: 'permanent', status, reason: `receiver answered with unexpected status ${status}` };
}

function retryAfter(answer: HttpAnswer, now: number): number | undefined {
  const ms = parseRetryAfter(answer.headers['retry-after'], now);
  return ms === undefined ? undefined : Math.min(ms, MAX_RETRY_AFTER_MS);
}

function rejectionHint(status: number): string {
  switch (status) {
    case 400:
      return 'the receiver cannot read the notice; not resent';
    case 401:
      return 'not authenticated at the receiver; not resent until the endpoint credentials are fixed';
    case 403:
      return 'not allowed by the receiver; not resent until the endpoint is fixed';
    case 404:
      return 'no such endpoint; not resent until the endpoint address is fixed';
    default:
      return 'refused by the receiver; not resent';
  }
}

/**
 * The verdict on a failed attempt that produced no answer. Timeouts, connection failures, a busy
 * receiver and an open breaker are worth another try; a refused address (SSRF policy) or a
 * rejection is not. Any other error is judged by `isTransient`: giving up on a notice a retry would
 * save loses it, retrying a hopeless one only costs attempts.
 * @param err - what the delivery threw.
 */
export function classifyError(err: unknown): DeliveryVerdict {
  if (!isDeliveryError(err)) {
    const reason = `delivery failed (${describeError(err).code})`;
    return isTransient(err) ? { kind: 'retry', reason } : { kind: 'permanent', reason };
  }
  const status = err.status !== undefined ? { status: err.status } : {};
  switch (err.code) {
    case DeliveryErrorCode.EndpointRefused:
    case DeliveryErrorCode.EndpointRejected:
      return { kind: 'permanent', reason: err.message, ...status };
    case DeliveryErrorCode.EndpointTimeout:
    case DeliveryErrorCode.EndpointUnreachable:
    case DeliveryErrorCode.EndpointBusy:
    case DeliveryErrorCode.CircuitOpen:
      return {
        kind: 'retry',
        reason: err.message,
        ...status,
        ...(err.retryAfterMs !== undefined
          ? { afterMs: Math.min(err.retryAfterMs, MAX_RETRY_AFTER_MS) }
          : {}),
      };
  }
}
