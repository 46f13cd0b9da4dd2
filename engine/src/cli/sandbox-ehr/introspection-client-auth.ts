/**
 * How a resource server proves who it is to the sandbox EHR's introspection endpoint. Real EHRs
 * differ here: some take a client secret (`client_secret_basic`), some a signed assertion
 * (`private_key_jwt`, RFC 7523), some a static token issued to the resource server (`bearer`).
 * Each registered client uses exactly one, so the engine can be tested against all three.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { decodeJwt, importJWK, jwtVerify, type JWK } from 'jose';

/** A resource server allowed to introspect, and how it authenticates. */
export type IntrospectionClient =
  | { readonly method: 'client_secret_basic'; readonly clientId: string; readonly clientSecret: string }
  | {
      readonly method: 'private_key_jwt';
      readonly clientId: string;
      /** Public key (EC P-256/P-384 or RSA) its assertions are signed with. */
      readonly publicJwk: JWK;
    }
  | { readonly method: 'bearer'; readonly clientId: string; readonly token: string };

export const CLIENT_ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';
const ASSERTION_ALGORITHMS = ['ES256', 'ES384', 'RS256', 'RS384'];
/** Longest assertion lifetime accepted, so a leaked one is not good for long. */
const MAX_ASSERTION_LIFETIME_SEC = 300;

/** The outcome: the authenticated client id, or an OAuth error with its HTTP status. */
export type ClientAuthResult =
  | { readonly ok: true; readonly clientId: string }
  | { readonly ok: false; readonly status: 400 | 401; readonly error: string; readonly description: string };

export interface ClientAuthInput {
  readonly authorization: string | undefined;
  readonly body: Readonly<Record<string, unknown>>;
}

/** Compares secrets in constant time (hashing first makes the lengths equal). */
function sameSecret(a: string, b: string): boolean {
  const ha = createHash('sha256').update(a).digest();
  const hb = createHash('sha256').update(b).digest();
  return timingSafeEqual(ha, hb);
}

const refused = (description: string): ClientAuthResult => ({
  ok: false,
  status: 401,
  error: 'invalid_client',
  description,
});

/** RFC 6749 §2.3.1: the id and secret are form-urlencoded before Basic encoding. */
function decodeBasic(credentials: string): { id: string; secret: string } | undefined {
  const decoded = Buffer.from(credentials, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) return undefined;
  try {
    const unescape = (s: string): string => decodeURIComponent(s.replace(/\+/g, ' '));
    return { id: unescape(decoded.slice(0, colon)), secret: unescape(decoded.slice(colon + 1)) };
  } catch {
    return undefined;
  }
}

/** Checks a client assertion; jtis already seen are refused until they expire. */
async function verifyAssertion(
  assertion: string,
  clients: readonly IntrospectionClient[],
  audiences: readonly string[],
  seenJtis: Map<string, number>,
): Promise<ClientAuthResult> {
  let issuer: unknown;
  try {
    issuer = decodeJwt(assertion).iss;
  } catch {
    return refused('client_assertion is not a JWT');
  }
  const client = clients.find((c) => c.method === 'private_key_jwt' && c.clientId === issuer);
  if (client?.method !== 'private_key_jwt') return refused('no client registered for this assertion');
  try {
    const key = await importJWK(client.publicJwk, client.publicJwk.alg ?? inferAlg(client.publicJwk));
    const { payload } = await jwtVerify(assertion, key, {
      issuer: client.clientId,
      subject: client.clientId,
      audience: [...audiences],
      algorithms: ASSERTION_ALGORITHMS,
      requiredClaims: ['exp', 'jti'],
      clockTolerance: 5,
    });
    const now = Math.floor(Date.now() / 1000);
    const exp = payload.exp ?? 0;
    if (exp - now > MAX_ASSERTION_LIFETIME_SEC) return refused('client_assertion lives too long');
    const jti = `${client.clientId} ${String(payload.jti)}`;
    for (const [seen, until] of seenJtis) if (until < now) seenJtis.delete(seen);
    if (seenJtis.has(jti)) return refused('client_assertion jti was already used');
    seenJtis.set(jti, exp + 5);
    return { ok: true, clientId: client.clientId };
  } catch (err) {
    return refused(`client_assertion rejected: ${err instanceof Error ? err.message : String(err)}`);
  }
}

function inferAlg(jwk: JWK): string {
  if (jwk.kty === 'RSA') return 'RS384';
  return jwk.crv === 'P-256' ? 'ES256' : 'ES384';
}

/** Authenticates introspection callers against the registered clients. */
export class IntrospectionClientAuth {
  private readonly seenJtis = new Map<string, number>();
  private readonly clients: readonly IntrospectionClient[];
  private readonly audiences: readonly string[];

  /**
   * @param clients - who may introspect.
   * @param audiences - values an assertion's `aud` may take: the introspection endpoint URL (what
   *   RFC 7523 expects), or the issuer or token endpoint, which some clients use instead.
   */
  constructor(clients: readonly IntrospectionClient[], audiences: readonly string[]) {
    this.clients = clients;
    this.audiences = audiences;
  }

  /**
   * Finds and checks the one authentication method the request used.
   * @param input - the Authorization header and the form body.
   */
  async authenticate(input: ClientAuthInput): Promise<ClientAuthResult> {
    const header = input.authorization ?? '';
    const scheme = header.split(' ', 1)[0]?.toLowerCase() ?? '';
    const assertion = input.body['client_assertion'];
    const presented = [scheme === 'basic', scheme === 'bearer', assertion !== undefined].filter(Boolean);
    if (presented.length > 1) {
      return {
        ok: false,
        status: 400,
        error: 'invalid_request',
        description: 'use exactly one client authentication method',
      };
    }
    if (scheme === 'basic') return this.basic(header.slice(6).trim());
    if (scheme === 'bearer') return this.bearer(header.slice(7).trim());
    if (assertion !== undefined) {
      if (input.body['client_assertion_type'] !== CLIENT_ASSERTION_TYPE || typeof assertion !== 'string') {
        return refused(`client_assertion_type must be ${CLIENT_ASSERTION_TYPE}`);
      }
      return verifyAssertion(assertion, this.clients, this.audiences, this.seenJtis);
    }
    return refused('client authentication is required');
  }

  private basic(credentials: string): ClientAuthResult {
    const decoded = decodeBasic(credentials);
    if (decoded === undefined) return refused('malformed Basic credentials');
    const client = this.clients.find((c) => c.method === 'client_secret_basic' && c.clientId === decoded.id);
    if (client?.method !== 'client_secret_basic' || !sameSecret(client.clientSecret, decoded.secret)) {
      return refused('unknown client or wrong secret');
    }
    return { ok: true, clientId: client.clientId };
  }

  private bearer(token: string): ClientAuthResult {
    // Every bearer client is compared, so the time taken does not tell which one nearly matched.
    let match: string | undefined;
    for (const c of this.clients) {
      if (c.method === 'bearer' && sameSecret(c.token, token)) match = c.clientId;
    }
    return match === undefined ? refused('unknown resource-server token') : { ok: true, clientId: match };
  }
}
