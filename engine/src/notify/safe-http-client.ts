/**
 * The one way notifications leave the engine over HTTP: a POST that can only reach addresses the
 * SSRF policy allows (checked on the address actually connected to), never follows a redirect,
 * gives up after one overall timeout and reads at most 64 KiB of answer. Failures are
 * DeliveryErrors, so the worker and the breaker can tell a dead receiver from a refused address.
 */
import http from 'node:http';
import https from 'node:https';
import { isIP } from 'node:net';
import { performance } from 'node:perf_hooks';
import {
  guardedLookup,
  isAddressAllowed,
  resolveWithSystemDns,
  urlHost,
  type AddressPolicy,
  type ResolveHost,
} from './endpoint-address-policy';
import { DeliveryError, DeliveryErrorCode, describeEndpoint, isDeliveryError } from './notify-error';

/** What a receiver answered. */
export interface HttpAnswer {
  readonly status: number;
  /** Response headers by lower-case name; repeated headers joined with ", ". */
  readonly headers: Readonly<Record<string, string | undefined>>;
  /** The body as UTF-8, cut at `MAX_ANSWER_BYTES`: enough for an OperationOutcome, not a flood. */
  readonly body: string;
  /** From sending the request to the end of the (possibly cut) body. */
  readonly latencyMs: number;
}

export interface PostJsonOptions {
  /** From `parseAllowedHosts`: which addresses beyond public unicast may be reached. */
  readonly policy: AddressPolicy;
  /** Connect, send and the whole answer must fit in this. */
  readonly timeoutMs: number;
  /**
   * The resolver the connect-time check uses.
   * @defaultValue the system resolver (`dns.promises.lookup`, all addresses)
   */
  readonly lookup?: ResolveHost;
}

/** Answers longer than this are cut: a receiver's error text, not a download. */
export const MAX_ANSWER_BYTES = 64 * 1024;

// One keep-alive pool per protocol, shared by every delivery: 200 notices a second to a few
// receivers reuse a handful of connections instead of opening 200 a second. Idle sockets are
// unref'd by Node's agent, so they never keep a process alive; `closeHttpAgents` ends them at
// shutdown. Free sockets close after 4 s, under the 5 s keep-alive most servers (Node's included)
// use, so a reused socket is rarely one the receiver is closing.
const AGENT_OPTIONS: http.AgentOptions = {
  keepAlive: true,
  maxSockets: 32,
  maxTotalSockets: 256,
  maxFreeSockets: 8,
  timeout: 4_000,
};
let httpAgent: http.Agent | undefined;
let httpsAgent: https.Agent | undefined;

function agentFor(protocol: 'http:' | 'https:'): http.Agent {
  if (protocol === 'https:') return (httpsAgent ??= new https.Agent(AGENT_OPTIONS));
  return (httpAgent ??= new http.Agent(AGENT_OPTIONS));
}

/** Closes pooled connections (at shutdown, or between tests); the next post opens new ones. */
export function closeHttpAgents(): void {
  httpAgent?.destroy();
  httpsAgent?.destroy();
  httpAgent = undefined;
  httpsAgent = undefined;
}

/**
 * POSTs a JSON body and returns whatever status came back (a 3xx included: redirects are not
 * followed); classifying the answer is `classifyAnswer`'s job.
 * @param url - the endpoint, `https:` or `http:`, without credentials.
 * @param body - the JSON text.
 * @param headers - extra request headers; `Content-Type` defaults to application/fhir+json.
 * @param options - the address policy, the overall timeout and the resolver.
 * @throws DeliveryError `endpoint-refused` (address not allowed, bad URL), `endpoint-timeout`,
 *   `endpoint-unreachable` (connection refused or reset, DNS or TLS failure).
 */
export async function postJson(
  url: string,
  body: string,
  headers: Readonly<Record<string, string>>,
  options: PostJsonOptions,
): Promise<HttpAnswer> {
  const target = parseTarget(url, options.policy);
  const payload = Buffer.from(body, 'utf8');
  const requestHeaders = withDefaults(headers, payload.length);
  const client = target.protocol === 'https:' ? https : http;
  const started = performance.now();
  const where = describeEndpoint(target);

  return new Promise<HttpAnswer>((resolve, reject) => {
    let settled = false;
    const settle = (outcome: () => void): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      outcome();
    };
    const req = client.request(target, {
      method: 'POST',
      headers: requestHeaders,
      agent: agentFor(target.protocol),
      lookup: guardedLookup(options.policy, options.lookup ?? resolveWithSystemDns),
      // Explicit, so NODE_TLS_REJECT_UNAUTHORIZED=0 in the environment cannot turn verification off.
      rejectUnauthorized: true,
    });
    // One timer for connect, send and the whole answer: a receiver trickling its body a byte at a
    // time must not hold a worker longer than one that never answers.
    const timer = setTimeout(() => {
      const timeout = new DeliveryError(
        DeliveryErrorCode.EndpointTimeout,
        `POST ${where}: no complete answer within ${options.timeoutMs} ms`,
      );
      settle(() => reject(timeout));
      req.destroy(timeout);
    }, options.timeoutMs);

    req.on('error', (err) => settle(() => reject(toDeliveryError(err, where))));
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      const finish = (): void =>
        settle(() =>
          resolve({
            status: res.statusCode ?? 0,
            headers: flattenHeaders(res.headers),
            body: Buffer.concat(chunks).toString('utf8'),
            latencyMs: performance.now() - started,
          }),
        );
      res.on('data', (chunk: Buffer) => {
        if (settled) return;
        const room = MAX_ANSWER_BYTES - size;
        chunks.push(chunk.length > room ? chunk.subarray(0, room) : chunk);
        size += Math.min(chunk.length, room);
        if (size >= MAX_ANSWER_BYTES) {
          finish();
          // The rest is not wanted; the socket is not reused, which beats reading a flood.
          res.destroy();
        }
      });
      res.on('end', finish);
      res.on('error', (err) => settle(() => reject(toDeliveryError(err, where))));
      // A connection dropped mid-body ends neither with 'end' nor always with 'error'.
      res.on('close', () => {
        if (!res.complete) {
          settle(() =>
            reject(new DeliveryError(DeliveryErrorCode.EndpointUnreachable, `POST ${where}: answer cut off`)),
          );
        }
      });
    });
    req.end(payload);
  });
}

interface Target extends URL {
  readonly protocol: 'http:' | 'https:';
}

/** The URL, once it is known to be one we may post to; IP literals are checked here because Node
 * never calls `lookup` for them. */
function parseTarget(url: string, policy: AddressPolicy): Target {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new DeliveryError(
      DeliveryErrorCode.EndpointRefused,
      'endpoint address is not a valid absolute URL',
    );
  }
  const where = describeEndpoint(parsed);
  if (!isHttpUrl(parsed)) {
    throw new DeliveryError(DeliveryErrorCode.EndpointRefused, `${where}: only https: and http: are allowed`);
  }
  if (parsed.username !== '' || parsed.password !== '') {
    throw new DeliveryError(
      DeliveryErrorCode.EndpointRefused,
      `${where}: credentials in the URL are not allowed`,
    );
  }
  const host = urlHost(parsed);
  if (isIP(host) !== 0 && !isAddressAllowed(host, policy)) {
    throw new DeliveryError(
      DeliveryErrorCode.EndpointRefused,
      `${where}: address ${host} is not public; allow it in ENDPOINT_ALLOWED_HOSTS`,
    );
  }
  return parsed;
}

function isHttpUrl(url: URL): url is Target {
  return url.protocol === 'https:' || url.protocol === 'http:';
}

/** The caller's headers plus defaults; the length is always ours, since we know the bytes sent. */
function withDefaults(headers: Readonly<Record<string, string>>, length: number): Record<string, string> {
  const out = Object.fromEntries(
    Object.entries(headers).filter(([name]) => name.toLowerCase() !== 'content-length'),
  );
  const names = new Set(Object.keys(out).map((name) => name.toLowerCase()));
  if (!names.has('content-type')) out['Content-Type'] = 'application/fhir+json';
  if (!names.has('accept')) out['Accept'] = 'application/fhir+json, application/json;q=0.9';
  out['Content-Length'] = String(length);
  return out;
}

function flattenHeaders(headers: http.IncomingHttpHeaders): Record<string, string | undefined> {
  const out: Record<string, string | undefined> = {};
  for (const [name, value] of Object.entries(headers)) {
    out[name.toLowerCase()] = Array.isArray(value) ? value.join(', ') : value;
  }
  return out;
}

/** Node's socket, DNS and TLS errors as DeliveryErrors; the message keeps the code, not the text. */
function toDeliveryError(err: Error, where: string): DeliveryError {
  if (isDeliveryError(err)) return err;
  const code = (err as NodeJS.ErrnoException).code ?? err.name;
  return new DeliveryError(DeliveryErrorCode.EndpointUnreachable, `POST ${where} failed (${code})`, {
    cause: err,
  });
}
