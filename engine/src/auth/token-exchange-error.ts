/**
 * Why an EHR token exchange was refused, as a code the token endpoint maps to an HTTP status
 * and an RFC 6749 error, and the audit trail records as the reason. The app can tell "send a
 * fresh EHR token" (403 `invalid_grant`) from "fix the request" (400) and "try later" (503).
 */
import { CodedError, type CodedErrorOptions } from '../errors/coded-error';

/** Reasons, in the token response's `reason` and the audit row's `detail.reason`. */
export const ExchangeFailure = {
  /** A parameter missing, repeated, or of the wrong kind. */
  invalidRequest: 'invalid-request',
  /** `client_id` is not the app's. */
  invalidClient: 'invalid-client',
  /** `audience` or `resource` names something other than this engine. */
  invalidTarget: 'invalid-target',
  /** Nothing is left of the EHR's grant, the app's scopes and the request's `scope`. */
  invalidScope: 'invalid-scope',
  /** `subject_issuer` is not in EHR_ISSUERS_FILE. */
  unknownIssuer: 'unknown-issuer',
  /** The EHR says the token is not active (revoked, expired, unknown to it). */
  inactive: 'token-inactive',
  /** The EHR says active, but its `exp` has passed. */
  expired: 'token-expired',
  /** The EHR token was issued to another client than the app. */
  wrongClient: 'token-wrong-client',
  /** The EHR token carries no launch patient (or one that is not a FHIR id). */
  noPatient: 'no-patient-context',
  /** The EHR refused to give its launch Patient for this token, or gave something else. */
  patientUnreadable: 'ehr-patient-unreadable',
  /** The introspection endpoint (or its discovery) answered with an error or nonsense. */
  introspectionFailed: 'introspection-failed',
  /** The EHR could not be reached in time. */
  ehrUnavailable: 'ehr-unavailable',
} as const;

export type ExchangeFailure = (typeof ExchangeFailure)[keyof typeof ExchangeFailure];

/** The RFC 6749 / RFC 8693 `error` and HTTP status of each reason. */
const ANSWERS: Readonly<Record<ExchangeFailure, { readonly error: string; readonly status: number }>> = {
  'invalid-request': { error: 'invalid_request', status: 400 },
  'invalid-client': { error: 'invalid_client', status: 401 },
  'invalid-target': { error: 'invalid_target', status: 400 },
  'invalid-scope': { error: 'invalid_scope', status: 400 },
  'unknown-issuer': { error: 'invalid_grant', status: 403 },
  'token-inactive': { error: 'invalid_grant', status: 403 },
  'token-expired': { error: 'invalid_grant', status: 403 },
  'token-wrong-client': { error: 'invalid_grant', status: 403 },
  'no-patient-context': { error: 'invalid_grant', status: 403 },
  'ehr-patient-unreadable': { error: 'invalid_grant', status: 403 },
  'introspection-failed': { error: 'temporarily_unavailable', status: 503 },
  'ehr-unavailable': { error: 'temporarily_unavailable', status: 503 },
};

/** The token endpoint's error body for a refused exchange. */
export interface ExchangeErrorBody {
  readonly error: string;
  readonly error_description: string;
  readonly reason: ExchangeFailure;
}

/** A refused exchange; the message is for the app's developer, never PHI or a token. */
export class TokenExchangeError extends CodedError<ExchangeFailure> {
  override readonly name = 'TokenExchangeError';

  constructor(code: ExchangeFailure, message: string, options?: CodedErrorOptions) {
    const transient = code === 'introspection-failed' || code === 'ehr-unavailable';
    super(code, message, { transient, ...options });
  }

  get status(): number {
    return ANSWERS[this.code].status;
  }

  /** The refusal as the token endpoint sends it. */
  toBody(): ExchangeErrorBody {
    return { error: ANSWERS[this.code].error, error_description: this.message, reason: this.code };
  }
}
