/**
 * Request parameters of the archive's search filters that more than one route takes (the message
 * list, the error groups, a bulk replay's filter), checked one way everywhere.
 */
import { nameSearchPrefix } from '../hl7/patient-name';
import { ERROR_KEY_RE } from '../store/error-key';
import { safeText } from './request-params';

/** `family` or `family, given`: a name prefix with a family part left after normalising. */
export const patientNameQuery = safeText(200).refine(
  (v) => nameSearchPrefix(v) !== undefined,
  'must be a family name, optionally followed by ", " and a given name',
);

/** A key from `GET /api/errors`. */
export const errorKeyParam = safeText(64).refine(
  (v) => ERROR_KEY_RE.test(v),
  'must be an error group key from /api/errors',
);

/** `since` before `until` when both are given (the range is since ≤ received < until). */
export function untilAfterSince(q: {
  readonly since?: Date | undefined;
  readonly until?: Date | undefined;
}): boolean {
  return q.since === undefined || q.until === undefined || q.since < q.until;
}

/** The refinement's issue, on `until`. */
export const UNTIL_AFTER_SINCE = { message: 'must be after since', path: ['until'] };
