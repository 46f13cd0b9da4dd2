/**
 * The archive's search filters as request parameters, one schema for every route that takes them
 * (the message list, the error groups, a bulk replay's filter), so each field is checked one way
 * everywhere, maps to the store's MessageFilter one way, and is audited one way.
 */
import { z } from 'zod';
import { nameSearchPrefix } from '../hl7/patient-name';
import { ERROR_KEY_RE } from '../store/error-key';
import { MessageStatus } from '../store/message-archive';
import type { MessageFilter } from '../store/message-query';
import { isoInstant, MAX_FILTER_LENGTH, safeText } from './request-params';

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

const STATUSES = Object.values(MessageStatus);

/**
 * Every filter field, optional; a route picks or extends these inside a `z.strictObject`, so an
 * unknown parameter is refused, not ignored (a dropped filter would match more than asked for).
 */
export const messageFilterFields = {
  sender: safeText(MAX_FILTER_LENGTH).optional(),
  type: safeText(7)
    .refine((v) => /^[A-Z0-9]{3}(\^[A-Z0-9]{3})?$/.test(v), 'must be a message type: ADT or ADT^A01')
    .optional(),
  status: z
    .enum(STATUSES, {
      error: (iss) =>
        Array.isArray(iss.input) ? 'must be given at most once' : `must be one of ${STATUSES.join(', ')}`,
    })
    .optional(),
  controlId: safeText(MAX_FILTER_LENGTH).optional(),
  patient: safeText(MAX_FILTER_LENGTH).optional(),
  name: patientNameQuery.optional(),
  since: isoInstant.optional(),
  until: isoInstant.optional(),
  errorKey: errorKeyParam.optional(),
};

/** A parsed filter: any of the fields, each possibly undefined. */
export type MessageFilterParams = {
  readonly [K in keyof typeof messageFilterFields]?: z.output<(typeof messageFilterFields)[K]>;
};

/** `since` before `until` when both are given (the range is since ≤ received < until). */
export function untilAfterSince(q: {
  readonly since?: Date | undefined;
  readonly until?: Date | undefined;
}): boolean {
  return q.since === undefined || q.until === undefined || q.since < q.until;
}

/** The refinement's issue, on `until`. */
export const UNTIL_AFTER_SINCE = { message: 'must be after since', path: ['until'] };

/** The store's filter of the fields given (paging, `before` and `count`, is the caller's). */
export function toMessageFilter(q: MessageFilterParams): Omit<MessageFilter, 'count'> {
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(messageFilterFields) as (keyof MessageFilterParams)[]) {
    if (q[key] !== undefined) out[key] = q[key];
  }
  return out;
}

/**
 * A filter as the audit row's query. The audit log redacts every value but IDs and codes
 * (auth/audit-log.ts), `name` among them; `patient` here is an MRN, not the FHIR resource id the
 * log takes it for, so it is redacted before.
 * @param values - `req.query` as given, or a parsed filter (dates written as ISO instants).
 */
export function filterAuditQuery(values: Readonly<Record<string, unknown>>): string {
  const q = new URLSearchParams();
  for (const [key, value] of Object.entries(values)) {
    if (value === undefined) continue;
    q.set(key, key === 'patient' ? 'REDACTED' : auditValue(value));
  }
  return q.toString();
}

/** A value as written in the audit query: parsed dates as instants, anything odd as JSON. */
function auditValue(value: unknown): string {
  if (typeof value === 'string') return value;
  if (value instanceof Date) return value.toISOString();
  return JSON.stringify(value);
}
