/**
 * Why identity could not do what was asked. `conflict` is transient: another transaction
 * changed a person while this one linked, and a retry sees the new state.
 */
import { CodedError, errorGuard } from '../errors/coded-error';

export class IdentityConflictError extends CodedError<'identity-conflict'> {
  override readonly name = 'IdentityConflictError';
  constructor(message: string) {
    super('identity-conflict', message, { transient: true });
  }
}

/** A review decision that cannot be taken (unknown review, already decided, record gone). */
export class ReviewDecisionError extends CodedError<
  'review-not-found' | 'review-decided' | 'record-missing'
> {
  override readonly name = 'ReviewDecisionError';
}

export const isReviewDecisionError = errorGuard<ReviewDecisionError>('ReviewDecisionError');
