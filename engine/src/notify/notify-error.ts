/**
 * Why a notification did not reach its PCP endpoint, as a code the delivery worker and the breaker
 * branch on. Whether a retry can help follows from the code, so no caller can get it wrong.
 */
import { CodedError, errorGuard } from '../errors/coded-error';

export const DeliveryErrorCode = {
  /** The address is not one we may connect to (SSRF protection): private, loopback, metadata... */
  EndpointRefused: 'endpoint-refused',
  /** No complete answer within the delivery timeout (connect, send and response together). */
  EndpointTimeout: 'endpoint-timeout',
  /** The connection could not be made or was dropped: refused, reset, DNS failure, TLS failure. */
  EndpointUnreachable: 'endpoint-unreachable',
  /** The receiver answered that it will never take this notice as sent (400, 401, 404, a 3xx...). */
  EndpointRejected: 'endpoint-rejected',
  /** The receiver answered that it cannot take it now (429, 5xx). */
  EndpointBusy: 'endpoint-busy',
  /** Too many transient failures in a row: the endpoint is left alone for a while. */
  CircuitOpen: 'circuit-open',
} as const;
export type DeliveryErrorCode = (typeof DeliveryErrorCode)[keyof typeof DeliveryErrorCode];

/** Codes whose cause a retry cannot change: the address or the receiver's verdict stay the same. */
const PERMANENT_CODES: ReadonlySet<DeliveryErrorCode> = new Set([
  DeliveryErrorCode.EndpointRefused,
  DeliveryErrorCode.EndpointRejected,
]);

export interface DeliveryErrorOptions {
  /** The HTTP status the receiver answered with, when it answered. */
  readonly status?: number;
  /** How long to wait before the next attempt, when the receiver (Retry-After) or the breaker said. */
  readonly retryAfterMs?: number;
  readonly cause?: unknown;
}

/** A delivery that did not happen; `message` may name the endpoint URL (without query or credentials). */
export class DeliveryError extends CodedError<DeliveryErrorCode> {
  override readonly name = 'DeliveryError';
  readonly status: number | undefined;
  readonly retryAfterMs: number | undefined;

  /**
   * @param code - what went wrong; it decides `transient`.
   * @param message - for people; never PHI, never a query string or credentials (see `describeEndpoint`).
   * @param options - the HTTP status, a wait the receiver asked for, the underlying error.
   */
  constructor(code: DeliveryErrorCode, message: string, options: DeliveryErrorOptions = {}) {
    super(code, message, {
      transient: !PERMANENT_CODES.has(code),
      ...(options.cause !== undefined ? { cause: options.cause } : {}),
    });
    this.status = options.status;
    this.retryAfterMs = options.retryAfterMs;
  }
}

/** True for a DeliveryError, told by name (so two copies of the class agree). */
export const isDeliveryError = errorGuard<DeliveryError>('DeliveryError');

/**
 * An endpoint URL fit for an error message or a log line: scheme, host, port and path only. A
 * query string can carry identifiers or tokens, and userinfo carries credentials.
 * @param url - the endpoint address, parsed or not.
 */
export function describeEndpoint(url: string | URL): string {
  let parsed: URL;
  try {
    parsed = typeof url === 'string' ? new URL(url) : url;
  } catch {
    return '(invalid URL)';
  }
  return `${parsed.protocol}//${parsed.host}${parsed.pathname}`;
}
