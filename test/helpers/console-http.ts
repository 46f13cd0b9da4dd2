/**
 * HTTP as the analyst console's browser speaks it, for tests: a cookie jar (fetch keeps none),
 * manual redirects, and requests from a chosen loopback source address (127.0.0.x), so tests of
 * the per-address sign-in limit do not share one count.
 */
import http from 'node:http';
import { randomInt } from 'node:crypto';

export interface ConsoleResponse {
  readonly status: number;
  readonly headers: http.IncomingHttpHeaders;
  /** Raw `Set-Cookie` lines. */
  readonly setCookies: readonly string[];
  readonly text: string;
  /** The body parsed as JSON, or undefined when it is not JSON. */
  readonly json: Record<string, unknown> | undefined;
}

export interface ConsoleRequestOptions {
  readonly method?: string;
  readonly headers?: Readonly<Record<string, string>>;
  /** Sent as `application/json` unless `headers` says otherwise. */
  readonly json?: unknown;
  readonly body?: string;
  /** Source address; @defaultValue 127.0.0.1 */
  readonly from?: string;
}

/** A fresh loopback source address, so one test's per-address count is its own. */
export function loopbackAddress(): string {
  return `127.0.${randomInt(1, 255)}.${randomInt(1, 255)}`;
}

/** One request; redirects are returned, not followed. */
export function consoleRequest(url: string, o: ConsoleRequestOptions = {}): Promise<ConsoleResponse> {
  const target = new URL(url);
  const body = o.json !== undefined ? JSON.stringify(o.json) : o.body;
  const headers: Record<string, string> = {
    ...(o.json !== undefined ? { 'content-type': 'application/json' } : {}),
    ...o.headers,
  };
  if (body !== undefined) headers['content-length'] = String(Buffer.byteLength(body));
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: target.hostname,
        port: target.port,
        path: `${target.pathname}${target.search}`,
        method: o.method ?? 'GET',
        headers,
        localAddress: o.from ?? '127.0.0.1',
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let json: Record<string, unknown> | undefined;
          try {
            json = JSON.parse(text) as Record<string, unknown>;
          } catch {
            json = undefined;
          }
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            setCookies: res.headers['set-cookie'] ?? [],
            text,
            json,
          });
        });
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

/** Cookies by name, as a browser keeps them for one host (the port does not separate cookies). */
export class CookieJar {
  private readonly cookies = new Map<string, string>();

  /** Takes the response's `Set-Cookie` lines: set, replace, or delete (Max-Age=0 or past Expires). */
  take(res: Pick<ConsoleResponse, 'setCookies'>): void {
    for (const line of res.setCookies) {
      const [pair = '', ...attrs] = line.split(';').map((s) => s.trim());
      const eq = pair.indexOf('=');
      const name = pair.slice(0, eq);
      const value = pair.slice(eq + 1);
      const expired = attrs.some((a) => {
        const [k = '', v = ''] = a.split('=');
        if (k.toLowerCase() === 'max-age') return Number(v) <= 0;
        if (k.toLowerCase() === 'expires') return new Date(v).getTime() <= Date.now();
        return false;
      });
      if (expired || value === '') this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
  }

  get(name: string): string | undefined {
    return this.cookies.get(name);
  }

  set(name: string, value: string): void {
    this.cookies.set(name, value);
  }

  /** The `Cookie` header value. */
  header(): string {
    return [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
  }
}

/** The attributes of the `Set-Cookie` line for `name`, lower-cased, or undefined when absent. */
export function cookieAttributes(
  res: Pick<ConsoleResponse, 'setCookies'>,
  name: string,
): string[] | undefined {
  const line = res.setCookies.find((l) => l.startsWith(`${name}=`));
  return line
    ?.split(';')
    .slice(1)
    .map((a) => a.trim().toLowerCase());
}
