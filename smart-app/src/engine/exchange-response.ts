/**
 * The engine's answer to the token exchange (RFC 8693 at `/auth/token`): its own access token,
 * the engine Patient the EHR's patient was matched to, and how (the match). Checked field by field
 * because it crosses from another service; a missing match is "none", never an error.
 */

export interface MatchedRecord {
  /** Engine Patient id. */
  readonly patient: string;
  readonly facility?: string;
  /** `certain`, `probable`, `possible`. */
  readonly grade?: string;
  /** 0–1. */
  readonly score?: number;
}

export interface PatientMatch {
  readonly status: 'matched' | 'none';
  /** Why nothing matched, in words for the PCP (the engine's `description`, else its `reason` code). */
  readonly reason?: string;
  readonly records: readonly MatchedRecord[];
}

export interface EngineGrant {
  readonly accessToken: string;
  /** Epoch ms after which the token is not used. */
  readonly expiresAt: number;
  readonly scope: string;
  /** The engine Patient to read (`$everything`); absent when nothing matched. */
  readonly patient?: string;
  readonly match: PatientMatch;
}

/** The answer was not what the contract says. */
export class ExchangeResponseError extends Error {
  override readonly name = 'ExchangeResponseError';
}

/** Tokens are treated as expired this long before they are, so a request never carries a dying one. */
export const EXPIRY_MARGIN_MS = 30_000;

/** When the engine sends no `expires_in`: its tokens live at most 300 s (README). */
const DEFAULT_LIFETIME_S = 300;

function str(v: unknown): string | undefined {
  return typeof v === 'string' && v !== '' ? v : undefined;
}

function recordOf(v: unknown): MatchedRecord | undefined {
  if (typeof v !== 'object' || v === null) return undefined;
  const r = v as Record<string, unknown>;
  const patient = str(r['patient'])?.replace(/^Patient\//, '');
  if (patient === undefined) return undefined;
  const facility = str(r['facility']);
  const grade = str(r['grade']);
  const score = typeof r['score'] === 'number' ? r['score'] : undefined;
  return {
    patient,
    ...(facility !== undefined ? { facility } : {}),
    ...(grade !== undefined ? { grade } : {}),
    ...(score !== undefined ? { score } : {}),
  };
}

function matchOf(v: unknown, patient: string | undefined): PatientMatch {
  const m = typeof v === 'object' && v !== null ? (v as Record<string, unknown>) : {};
  const records = Array.isArray(m['records'])
    ? m['records'].flatMap((r: unknown) => {
        const rec = recordOf(r);
        return rec === undefined ? [] : [rec];
      })
    : [];
  // The engine sends a code (`no-match`, `ambiguous`) and a sentence; the sentence is for people.
  const reason = str(m['description']) ?? str(m['reason']);
  const status =
    m['status'] === 'matched' || (m['status'] === undefined && patient !== undefined) ? 'matched' : 'none';
  return { status, ...(reason !== undefined ? { reason } : {}), records };
}

/**
 * Parses the token endpoint's JSON.
 * @param now - epoch ms the response was received.
 */
export function parseExchangeResponse(json: unknown, now: number): EngineGrant {
  if (typeof json !== 'object' || json === null) {
    throw new ExchangeResponseError('token response is not an object');
  }
  const body = json as Record<string, unknown>;
  const accessToken = str(body['access_token']);
  if (accessToken === undefined) throw new ExchangeResponseError('token response has no access_token');
  const tokenType = str(body['token_type']);
  if (tokenType !== undefined && tokenType.toLowerCase() !== 'bearer') {
    throw new ExchangeResponseError(`token_type ${tokenType} is not a bearer token`);
  }
  const lifetime =
    typeof body['expires_in'] === 'number' && body['expires_in'] > 0
      ? body['expires_in']
      : DEFAULT_LIFETIME_S;
  const named = str(body['patient'])?.replace(/^Patient\//, '');
  const match = matchOf(body['match'], named);
  // A match without `patient` still names its records; the best one (first) is the one to read.
  const patient = match.status === 'matched' ? (named ?? match.records[0]?.patient) : undefined;
  return {
    accessToken,
    expiresAt: now + lifetime * 1000,
    scope: str(body['scope']) ?? '',
    ...(patient !== undefined ? { patient } : {}),
    match,
  };
}
