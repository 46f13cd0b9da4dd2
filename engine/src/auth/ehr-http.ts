/**
 * The engine's calls to an EHR (discovery, introspection, the launch Patient): bounded in time
 * and size, never following a redirect (an EHR token must go only where the issuers file says),
 * and telling "the EHR answered no" apart from "the EHR could not be asked".
 */
import { CodedError } from '../errors/coded-error';

/** Bound on one call to an EHR: connect, send, answer. */
export const EHR_TIMEOUT_MS = 10_000;

/** Largest answer read from an EHR; a Patient or an introspection answer is a few KB. */
const MAX_BODY_BYTES = 1024 * 1024;

/** The EHR could not be reached, timed out, or answered unreadably large: worth trying later. */
export class EhrUnavailableError extends CodedError<'ehr-unavailable'> {
  override readonly name = 'EhrUnavailableError';
  constructor(message: string, options?: ErrorOptions) {
    super('ehr-unavailable', message, { ...options, transient: true });
  }
}

/** What an EHR answered. */
export interface EhrAnswer {
  readonly status: number;
  /** The parsed JSON body; undefined when the body is empty or not JSON. */
  readonly json: unknown;
}

export interface EhrRequest {
  readonly method?: 'GET' | 'POST';
  readonly headers?: Readonly<Record<string, string>>;
  /** Sent as application/x-www-form-urlencoded. */
  readonly form?: Readonly<Record<string, string>>;
  /** @defaultValue EHR_TIMEOUT_MS */
  readonly timeoutMs?: number;
}

function reasonOf(err: unknown): string {
  if (err instanceof Error && err.name === 'TimeoutError') return 'timed out';
  const cause = err instanceof Error ? err.cause : undefined;
  const code = typeof cause === 'object' && cause !== null && 'code' in cause ? cause.code : undefined;
  return typeof code === 'string' ? code : err instanceof Error ? err.message : String(err);
}

function parseJson(text: string): unknown {
  if (text.trim() === '') return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

/**
 * Calls an EHR and reads its JSON answer, whatever the status.
 * @param url - a URL from the issuers file or the EHR's discovery document.
 * @throws EhrUnavailableError when no answer came (network, timeout, too large).
 */
export async function callEhr(url: string, req: EhrRequest = {}): Promise<EhrAnswer> {
  const headers: Record<string, string> = { accept: 'application/json', ...req.headers };
  let body: string | undefined;
  if (req.form !== undefined) {
    headers['content-type'] = 'application/x-www-form-urlencoded';
    body = new URLSearchParams(req.form).toString();
  }
  let res: Response;
  try {
    res = await fetch(url, {
      method: req.method ?? (body === undefined ? 'GET' : 'POST'),
      headers,
      ...(body !== undefined ? { body } : {}),
      redirect: 'manual',
      signal: AbortSignal.timeout(req.timeoutMs ?? EHR_TIMEOUT_MS),
    });
  } catch (err) {
    throw new EhrUnavailableError(`${new URL(url).origin} could not be reached (${reasonOf(err)})`, {
      cause: err,
    });
  }
  let text: string;
  try {
    const declared = Number(res.headers.get('content-length') ?? '0');
    if (declared > MAX_BODY_BYTES) throw new Error(`an answer of ${declared} bytes`);
    text = await res.text();
    if (text.length > MAX_BODY_BYTES) throw new Error(`an answer over ${MAX_BODY_BYTES} bytes`);
  } catch (err) {
    throw new EhrUnavailableError(`${new URL(url).origin} sent no readable answer (${reasonOf(err)})`, {
      cause: err,
    });
  }
  return { status: res.status, json: parseJson(text) };
}
