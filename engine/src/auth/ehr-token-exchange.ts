/**
 * The EHR token exchange (RFC 8693 at `POST /auth/token`): the SMART app, launched inside a
 * PCP's EHR, trades the EHR's access token for one of the engine's. The EHR's token is never
 * honoured on the engine's API: the engine asks the EHR about it (introspection), reads the
 * launch Patient from the EHR with it, finds that person among its own linked records at the
 * link threshold only, and issues a short token limited to that person's records and to the
 * scopes the EHR granted and the app may have. Every outcome, refusals included, is audited.
 */
import type { IdentityRules } from '../identity/link-patient';
import {
  matchLaunchPatient,
  type LaunchPatientMatch,
  type MatchedRecord,
} from '../identity/launch-patient-match';
import { closeEhrReview, openEhrReview } from '../identity/ehr-review-store';
import type { Queryable } from '../store/db';
import type { AuditEvent } from './audit-log';
import { AuthError } from './auth-error';
import type { EhrIntrospector, IntrospectionResult } from './ehr-introspection';
import type { EhrIssuer, EhrIssuerRegistry } from './ehr-issuers';
import { FHIR_ID, readEhrPatient } from './ehr-launch-patient';
import { exchangeScopes } from './exchange-scopes';
import type { IntrospectionCache } from './introspection-cache';
import { splitScopes } from './scope-grant';
import { TokenExchangeError } from './token-exchange-error';
import { formParam, requireParam, type TokenForm } from './token-form';
import type { TokenService } from './token-service';

export const TOKEN_EXCHANGE_GRANT_TYPE = 'urn:ietf:params:oauth:grant-type:token-exchange';
export const ACCESS_TOKEN_TYPE = 'urn:ietf:params:oauth:token-type:access_token';

/** What the app is told of each engine record its token covers. */
export interface ExchangedRecord {
  readonly patient: string;
  readonly facility?: string;
  readonly via: MatchedRecord['via'];
  readonly grade?: string;
  /** The match probability, 0 to 1 (as `$match`'s `search.score`). */
  readonly score?: number;
  /** The match weight in bits, as linking compares it with IDENTITY_LINK_THRESHOLD. */
  readonly weight?: number;
}

export type ExchangeMatch =
  | {
      readonly status: 'matched';
      readonly basis: 'identifier' | 'score';
      readonly records: readonly ExchangedRecord[];
    }
  | {
      readonly status: 'none';
      readonly reason: 'no-match' | 'ambiguous';
      readonly description: string;
      readonly records: readonly [];
    };

/** The token endpoint's answer to a successful exchange (RFC 8693 section 2.2.1, plus `match`). */
export interface TokenExchangeResponse {
  readonly access_token: string;
  readonly issued_token_type: typeof ACCESS_TOKEN_TYPE;
  readonly token_type: 'Bearer';
  readonly expires_in: number;
  readonly scope: string;
  /** An engine Patient id of the matched person (SMART's `patient`); absent with no match. */
  readonly patient?: string;
  readonly match: ExchangeMatch;
}

export interface TokenExchangeDeps {
  readonly db: Queryable;
  readonly issuers: EhrIssuerRegistry;
  readonly introspector: EhrIntrospector;
  readonly cache: IntrospectionCache;
  readonly tokenService: TokenService;
  readonly rules: IdentityRules;
  /** SMART_APP_CLIENT_ID: the app's client id at the EHRs (an issuer may name its own). */
  readonly appClientId: string;
  /** PUBLIC_URL: an `audience` or `resource` must name this engine. */
  readonly publicUrl: string;
  readonly audit: (event: AuditEvent) => Promise<void>;
  /** @defaultValue Date.now */
  readonly now?: () => number;
}

export interface TokenExchanger {
  /**
   * Exchanges the EHR token in a token request's form.
   * @throws TokenExchangeError for every refusal (audited before it is thrown).
   */
  exchange(form: TokenForm): Promise<TokenExchangeResponse>;
}

const NO_MATCH: Readonly<Record<'no-match' | 'ambiguous', string>> = {
  'no-match': 'no record of this patient at the link threshold',
  ambiguous: 'more than one person matches this patient at the link threshold',
};

/** Parameters a public client must not send: they would suggest an authentication nobody checks. */
const CLIENT_AUTH_PARAMS = ['client_secret', 'client_assertion', 'client_assertion_type'] as const;

interface ExchangeRequest {
  readonly subjectToken: string;
  readonly subjectIssuer: string;
  readonly scope?: readonly string[];
  readonly clientId?: string;
}

const invalid = (message: string): TokenExchangeError => new TokenExchangeError('invalid-request', message);

function parseRequest(form: TokenForm, publicUrl: string): ExchangeRequest {
  try {
    const subjectToken = requireParam(form, 'subject_token');
    if (requireParam(form, 'subject_token_type') !== ACCESS_TOKEN_TYPE) {
      throw invalid(`subject_token_type must be ${ACCESS_TOKEN_TYPE}`);
    }
    const subjectIssuer = requireParam(form, 'subject_issuer');
    const requested = formParam(form, 'requested_token_type');
    if (requested !== undefined && requested !== ACCESS_TOKEN_TYPE) {
      throw invalid(`requested_token_type must be ${ACCESS_TOKEN_TYPE}`);
    }
    if (formParam(form, 'actor_token') !== undefined) throw invalid('actor_token is not supported');
    for (const name of CLIENT_AUTH_PARAMS) {
      if (formParam(form, name) !== undefined) {
        throw invalid(`${name}: the token exchange takes no client authentication`);
      }
    }
    const base = publicUrl.replace(/\/+$/, '');
    for (const name of ['audience', 'resource']) {
      const target = formParam(form, name)?.replace(/\/+$/, '');
      if (target !== undefined && target !== base && target !== `${base}/fhir`) {
        throw new TokenExchangeError('invalid-target', `${name} must be ${base}/fhir`);
      }
    }
    const scope = formParam(form, 'scope');
    const clientId = formParam(form, 'client_id');
    return {
      subjectToken,
      subjectIssuer,
      ...(scope !== undefined ? { scope: splitScopes(scope) } : {}),
      ...(clientId !== undefined ? { clientId } : {}),
    };
  } catch (err) {
    if (err instanceof AuthError) throw invalid(err.message);
    throw err;
  }
}

/** The EHR user for the audit trail: `fhirUser` as an absolute URL, else `<iss>#<sub>`. */
function subjectOf(iss: string, info: IntrospectionResult): string | undefined {
  if (info.fhirUser !== undefined) {
    try {
      return new URL(info.fhirUser, `${iss}/`).toString();
    } catch {
      return undefined;
    }
  }
  return info.sub !== undefined ? `${iss}#${info.sub}` : undefined;
}

function toExchangedRecord(r: MatchedRecord): ExchangedRecord {
  return {
    patient: `Patient/${r.patientId}`,
    ...(r.facility !== undefined ? { facility: r.facility } : {}),
    via: r.via,
    ...(r.grade !== undefined ? { grade: r.grade } : {}),
    ...(r.probability !== undefined ? { score: Math.round(r.probability * 10_000) / 10_000 } : {}),
    ...(r.weight !== undefined ? { weight: Math.round(r.weight * 100) / 100 } : {}),
  };
}

/** What the audit row says of an exchange, refused or not. */
interface Trail {
  iss?: string;
  ehrPatient?: string;
  clientId?: string;
  subject?: string;
}

/** Builds the exchanger. */
export function createTokenExchanger(deps: TokenExchangeDeps): TokenExchanger {
  const now = deps.now ?? Date.now;
  const appClientOf = (issuer: EhrIssuer): string => issuer.appClientId ?? deps.appClientId;

  async function audit(
    trail: Trail,
    outcome: AuditEvent['outcome'],
    detail: Record<string, string>,
    patientIds: readonly string[],
  ): Promise<void> {
    const base: AuditEvent = {
      clientId: trail.clientId ?? deps.appClientId,
      ...(trail.subject !== undefined ? { subject: trail.subject } : {}),
      action: 'exchange',
      resourceType: 'TokenExchange',
      outcome,
      detail: {
        ...(trail.iss !== undefined ? { iss: trail.iss } : {}),
        ...(trail.ehrPatient !== undefined ? { ehrPatient: trail.ehrPatient } : {}),
        ...detail,
      },
    };
    if (patientIds.length === 0) await deps.audit(base);
    for (const patientId of patientIds) await deps.audit({ ...base, patientId });
  }

  async function introspect(issuer: EhrIssuer, token: string): Promise<IntrospectionResult> {
    const cached = deps.cache.get(issuer.iss, token);
    if (cached !== undefined) return cached;
    const fresh = await deps.introspector.introspect(issuer, token);
    deps.cache.remember(issuer.iss, token, fresh);
    return fresh;
  }

  /** The checks on the EHR's answer, in the order the app can act on them. */
  function checkToken(issuer: EhrIssuer, info: IntrospectionResult, nowSeconds: number): string {
    if (!info.active) {
      throw new TokenExchangeError('token-inactive', `${issuer.iss} says the token is not active`);
    }
    if (info.exp !== undefined && info.exp <= nowSeconds) {
      throw new TokenExchangeError('token-expired', 'the EHR token has expired');
    }
    if (info.clientId !== undefined && info.clientId !== appClientOf(issuer)) {
      throw new TokenExchangeError('token-wrong-client', 'the EHR token was issued to another client');
    }
    if (info.patient === undefined || !FHIR_ID.test(info.patient)) {
      throw new TokenExchangeError('no-patient-context', 'the EHR token has no launch patient');
    }
    return info.patient;
  }

  async function recordMatch(
    issuer: EhrIssuer,
    ehrPatient: string,
    patient: Record<string, unknown>,
    match: LaunchPatientMatch,
  ): Promise<void> {
    if (match.status === 'matched') {
      await closeEhrReview(deps.db, issuer.iss, ehrPatient, match.personId);
      return;
    }
    await openEhrReview(deps.db, {
      issuer: issuer.iss,
      ehrPatient,
      reason: match.reason,
      patient,
      candidates: match.candidates,
    });
  }

  async function run(form: TokenForm, trail: Trail): Promise<TokenExchangeResponse> {
    const req = parseRequest(form, deps.publicUrl);
    // The issuer as claimed, bounded: a refusal's audit row says whose token was tried.
    trail.iss = req.subjectIssuer.slice(0, 256);
    const issuer = deps.issuers.find(req.subjectIssuer);
    if (issuer === undefined) {
      throw new TokenExchangeError(
        'unknown-issuer',
        'subject_issuer is not an EHR this engine accepts tokens from',
      );
    }
    trail.iss = issuer.iss;
    if (req.clientId !== undefined && req.clientId !== appClientOf(issuer)) {
      throw new TokenExchangeError('invalid-client', 'client_id is not the care-timeline app');
    }
    const info = await introspect(issuer, req.subjectToken);
    if (info.clientId !== undefined) trail.clientId = info.clientId;
    const subject = subjectOf(issuer.iss, info);
    if (subject !== undefined) trail.subject = subject;
    const nowSeconds = now() / 1000;
    const ehrPatient = checkToken(issuer, info, nowSeconds);
    trail.ehrPatient = ehrPatient;
    const scopes = exchangeScopes(info.scopes, req.scope);
    if (scopes.length === 0) {
      throw new TokenExchangeError(
        'invalid-scope',
        'nothing is left of the EHR grant and the requested scope that this app may read',
      );
    }
    const patient = await readEhrPatient(issuer.iss, ehrPatient, req.subjectToken);
    const match = await matchLaunchPatient(deps.db, patient, deps.rules);
    await recordMatch(issuer, ehrPatient, patient, match);

    const ehrLeft = info.exp === undefined ? Number.POSITIVE_INFINITY : Math.floor(info.exp - nowSeconds);
    const lifetimeSeconds = Math.max(1, Math.min(deps.tokenService.lifetimeSeconds, ehrLeft));
    const patients = match.status === 'matched' ? match.records.map((r) => r.patientId) : [];
    const issued = await deps.tokenService.issue({
      clientId: appClientOf(issuer),
      scopes,
      ...(subject !== undefined ? { subject } : {}),
      ...(match.status === 'matched' ? { patient: match.patientId } : {}),
      patients,
      lifetimeSeconds,
    });
    await audit(
      trail,
      'success',
      match.status === 'matched'
        ? { match: 'matched', basis: match.basis, scope: issued.scope }
        : { match: 'none', reason: match.reason, scope: issued.scope },
      patients,
    );
    return {
      access_token: issued.access_token,
      issued_token_type: ACCESS_TOKEN_TYPE,
      token_type: 'Bearer',
      expires_in: issued.expires_in,
      scope: issued.scope,
      ...(match.status === 'matched' ? { patient: match.patientId } : {}),
      match:
        match.status === 'matched'
          ? { status: 'matched', basis: match.basis, records: match.records.map(toExchangedRecord) }
          : { status: 'none', reason: match.reason, description: NO_MATCH[match.reason], records: [] },
    };
  }

  return {
    async exchange(form) {
      const trail: Trail = {};
      try {
        return await run(form, trail);
      } catch (err) {
        if (err instanceof TokenExchangeError) {
          await audit(trail, err.transient ? 'error' : 'denied', { reason: err.code }, []);
        }
        throw err;
      }
    },
  };
}
