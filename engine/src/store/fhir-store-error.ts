/**
 * Why the store refused a bundle or a search. The code is an OperationOutcome issue code, so the
 * HTTP layer and the pipeline report it without translating.
 */
import { CodedError, errorGuard } from '../errors/coded-error';
export const FhirStoreErrorCode = {
  /** A malformed bundle, resource, date or parameter value. */
  Invalid: 'invalid',
  /** A search parameter, modifier, prefix or method this server does not implement. */
  NotSupported: 'not-supported',
  /** A resource type this server does not serve. */
  NotFound: 'not-found',
  /** The stored resource does not hold what the entry requires of it (`expect-stored`). */
  Conflict: 'conflict',
} as const;
export type FhirStoreErrorCode = (typeof FhirStoreErrorCode)[keyof typeof FhirStoreErrorCode];

/** A typed refusal from the FHIR store; never transient, so retrying does not help. */
export class FhirStoreError extends CodedError<FhirStoreErrorCode> {
  override readonly name = 'FhirStoreError';
  /** FHIRPath-ish location of the problem, e.g. `Bundle.entry[2].request.url` or `date`. */
  readonly expression: string | undefined;
  constructor(code: FhirStoreErrorCode, message: string, expression?: string) {
    super(code, message);
    this.expression = expression;
  }
}

/** True for a FhirStoreError even after it lost its prototype (worker threads, Redis). */
export const isFhirStoreError = errorGuard<FhirStoreError>('FhirStoreError');
