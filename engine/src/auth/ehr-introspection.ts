/**
 * Asks an EHR whether one of its access tokens is good (RFC 7662 token introspection with
 * SMART App Launch's fields: `active`, `scope`, `patient`, `exp`, `fhirUser`), finding the
 * endpoint in the EHR's SMART discovery document when the issuers file does not name it.
 */
import { z } from 'zod';
import { callEhr, EhrUnavailableError } from './ehr-http';
import { isSecureEhrUrl, type EhrIssuer } from './ehr-issuers';
import { introspectionCredentials } from './introspection-client-auth';
import { splitScopes } from './scope-grant';
import { TokenExchangeError } from './token-exchange-error';

/** An introspection answer, in the engine's terms. */
export interface IntrospectionResult {
  readonly active: boolean;
  /** The scopes the EHR granted, split. */
  readonly scopes: readonly string[];
  /** The launch patient's id at the EHR. */
  readonly patient?: string;
  /** Seconds since the epoch. */
  readonly exp?: number;
  /** The client the token was issued to. */
  readonly clientId?: string;
  /** The user, as a FHIR resource URL (SMART `fhirUser`). */
  readonly fhirUser?: string;
  readonly sub?: string;
}

/** Asks the EHR; answers are not cached here (see introspection-cache.ts). */
export interface EhrIntrospector {
  /**
   * @throws TokenExchangeError `introspection-failed` (the EHR answered with an error or
   *   nonsense) or `ehr-unavailable` (no answer in time).
   */
  introspect(issuer: EhrIssuer, token: string): Promise<IntrospectionResult>;
}

export interface EhrIntrospectorOptions {
  /** @defaultValue Date.now */
  readonly now?: () => number;
  /**
   * How long a discovered endpoint is reused before the discovery document is read again.
   * @defaultValue one hour
   */
  readonly discoveryTtlMs?: number;
}

const introspectionAnswer = z.looseObject({
  active: z.boolean(),
  scope: z.string().optional(),
  patient: z.string().optional(),
  exp: z.number().optional(),
  client_id: z.string().optional(),
  fhirUser: z.string().optional(),
  sub: z.string().optional(),
});

const discoveryDocument = z.looseObject({ introspection_endpoint: z.string() });

const failed = (message: string): TokenExchangeError =>
  new TokenExchangeError('introspection-failed', message);

function unavailable(err: unknown): unknown {
  return err instanceof EhrUnavailableError
    ? new TokenExchangeError('ehr-unavailable', err.message, { cause: err })
    : err;
}

/** Creates an introspector with its own discovery cache. */
export function createEhrIntrospector(o: EhrIntrospectorOptions = {}): EhrIntrospector {
  const now = o.now ?? Date.now;
  const ttl = o.discoveryTtlMs ?? 3_600_000;
  const discovered = new Map<string, { endpoint: string; until: number }>();

  async function discover(iss: string): Promise<string> {
    const known = discovered.get(iss);
    if (known !== undefined && known.until > now()) return known.endpoint;
    const url = `${iss}/.well-known/smart-configuration`;
    const answer = await callEhr(url);
    const doc = discoveryDocument.safeParse(answer.json);
    if (answer.status !== 200 || !doc.success) {
      throw failed(`${url} answered ${answer.status} without an introspection_endpoint`);
    }
    const endpoint = doc.data.introspection_endpoint;
    if (!isSecureEhrUrl(endpoint)) {
      throw failed(`${url} names an introspection_endpoint that is not an https URL`);
    }
    discovered.set(iss, { endpoint, until: now() + ttl });
    return endpoint;
  }

  return {
    async introspect(issuer, token) {
      try {
        const endpoint = issuer.introspectionEndpoint ?? (await discover(issuer.iss));
        const credentials = await introspectionCredentials(issuer.auth, endpoint, now());
        const answer = await callEhr(endpoint, {
          headers: credentials.headers,
          form: { token, token_type_hint: 'access_token', ...credentials.form },
        });
        const parsed = introspectionAnswer.safeParse(answer.json);
        if (answer.status !== 200 || !parsed.success) {
          throw failed(
            `the introspection endpoint of ${issuer.iss} answered ${answer.status} without "active"`,
          );
        }
        const a = parsed.data;
        return {
          active: a.active,
          scopes: splitScopes(a.scope ?? ''),
          ...(a.patient !== undefined && a.patient !== '' ? { patient: a.patient } : {}),
          ...(a.exp !== undefined ? { exp: a.exp } : {}),
          ...(a.client_id !== undefined ? { clientId: a.client_id } : {}),
          ...(a.fhirUser !== undefined ? { fhirUser: a.fhirUser } : {}),
          ...(a.sub !== undefined ? { sub: a.sub } : {}),
        };
      } catch (err) {
        throw unavailable(err);
      }
    },
  };
}
