/**
 * The engine token, made from the EHR's by RFC 8693 token exchange at `<engine>/auth/token`. The
 * engine does not trust the browser: it introspects the EHR token at the EHR (`subject_issuer`)
 * and answers with its own short-lived token for the matched patient. A new exchange happens when
 * the engine token nears expiry or the EHR token changed (fhirclient refreshed it), one at a time.
 */
import { LaunchFailedError, SessionExpiredError } from '../smart/session-errors';
import { EXPIRY_MARGIN_MS, parseExchangeResponse, type EngineGrant } from './exchange-response';

export const TOKEN_EXCHANGE_GRANT = 'urn:ietf:params:oauth:grant-type:token-exchange';
export const ACCESS_TOKEN_TYPE = 'urn:ietf:params:oauth:token-type:access_token';

export interface EngineSessionOptions {
  /** `<engine>/auth/token`. */
  readonly tokenUrl: string;
  /** The EHR's `iss`: which EHR the engine asks about the subject token. */
  readonly issuer: string;
  /** The app's client id at the EHR, so the engine can check the token was issued to this app. */
  readonly clientId?: string;
  /** A current EHR access token (refreshed by the caller when needed). */
  readonly subjectToken: () => Promise<string>;
  /** @defaultValue globalThis.fetch */
  readonly fetch?: typeof fetch;
  /** @defaultValue Date.now */
  readonly now?: () => number;
}

export interface EngineSession {
  /** A grant valid for at least EXPIRY_MARGIN_MS more. */
  grant(): Promise<EngineGrant>;
  /** Forgets the current grant (the engine answered 401 to it). */
  invalidate(): void;
}

/** The token endpoint could not be reached or failed (5xx): worth trying again. */
export class ExchangeError extends Error {
  override readonly name = 'ExchangeError';
  readonly status: number;
  constructor(message: string, status: number) {
    super(message);
    this.status = status;
  }
}

/**
 * The engine's refusal reasons that mean the EHR session itself is over (a relaunch fixes it).
 * Its other `invalid_grant` reasons (unknown issuer, a token of another client, no patient in
 * context) are configuration problems, and relaunching would only repeat them.
 */
const EXPIRED_REASONS = new Set(['token-inactive', 'token-expired']);

interface OAuthError {
  readonly error?: string;
  readonly description?: string;
  /** The engine's own reason code (token-exchange-error.ts). */
  readonly reason?: string;
}

async function oauthErrorOf(res: Response): Promise<OAuthError> {
  try {
    const body: unknown = await res.json();
    if (typeof body !== 'object' || body === null) return {};
    const { error, error_description: description, reason } = body as Record<string, unknown>;
    return {
      ...(typeof error === 'string' ? { error } : {}),
      ...(typeof description === 'string' ? { description } : {}),
      ...(typeof reason === 'string' ? { reason } : {}),
    };
  } catch {
    // A non-JSON error page (a proxy's): the status says enough.
    return {};
  }
}

export function createEngineSession(options: EngineSessionOptions): EngineSession {
  const fetchImpl = options.fetch ?? globalThis.fetch.bind(globalThis);
  const now = options.now ?? Date.now;
  let current: { grant: EngineGrant; subject: string } | undefined;
  let inflight: Promise<EngineGrant> | undefined;

  const exchange = async (subject: string): Promise<EngineGrant> => {
    const body = new URLSearchParams({
      grant_type: TOKEN_EXCHANGE_GRANT,
      subject_token: subject,
      subject_token_type: ACCESS_TOKEN_TYPE,
      subject_issuer: options.issuer,
      ...(options.clientId !== undefined ? { client_id: options.clientId } : {}),
    });
    let res: Response;
    try {
      res = await fetchImpl(options.tokenUrl, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
        body,
      });
    } catch (err) {
      throw new ExchangeError(
        `the engine is unreachable (${err instanceof Error ? err.message : String(err)})`,
        0,
      );
    }
    if (res.ok) {
      const json: unknown = await res.json();
      return parseExchangeResponse(json, now());
    }
    const { error, description, reason } = await oauthErrorOf(res);
    const detail = description ?? error ?? `HTTP ${res.status}`;
    if (res.status >= 500 || res.status === 429 || error === 'temporarily_unavailable') {
      throw new ExchangeError(`the engine could not exchange the token now (${detail})`, res.status);
    }
    // Without the engine's reason code, invalid_grant is read as RFC 8693 means it: a dead token.
    const expired = reason !== undefined ? EXPIRED_REASONS.has(reason) : error === 'invalid_grant';
    if (expired) throw new SessionExpiredError(`The EHR session has ended (${detail}).`);
    throw new LaunchFailedError(`The care-coordination engine did not accept this EHR session: ${detail}.`);
  };

  return {
    async grant() {
      const subject = await options.subjectToken();
      if (
        current !== undefined &&
        current.subject === subject &&
        current.grant.expiresAt - EXPIRY_MARGIN_MS > now()
      ) {
        return current.grant;
      }
      inflight ??= exchange(subject)
        .then((grant) => {
          current = { grant, subject };
          return grant;
        })
        .finally(() => {
          inflight = undefined;
        });
      return inflight;
    },
    invalidate() {
      current = undefined;
    },
  };
}
