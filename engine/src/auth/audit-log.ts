/**
 * The audit trail of access to patient data: who (client, subject) did what to which resource.
 * Rows hold IDs only; search values that could be demographics are redacted before storage.
 */
import type { Queryable } from '../store/db';

/** What the caller did. */
export const AuditAction = {
  read: 'read',
  vread: 'vread',
  search: 'search',
  history: 'history',
  create: 'create',
  update: 'update',
  delete: 'delete',
  operation: 'operation',
  /** An EHR access token traded for an engine token (`POST /auth/token`, RFC 8693). */
  exchange: 'exchange',
  /** A console sign-in (resourceType `ConsoleSession`), succeeded or refused. */
  login: 'login',
  /** A console sign-out (resourceType `ConsoleSession`). */
  logout: 'logout',
} as const;

export type AuditAction = (typeof AuditAction)[keyof typeof AuditAction];

/** How it ended: `denied` for authorisation refusals, `error` for failures after access was allowed. */
export const AuditOutcome = { success: 'success', denied: 'denied', error: 'error' } as const;

export type AuditOutcome = (typeof AuditOutcome)[keyof typeof AuditOutcome];

/** One audited access. */
export interface AuditEvent {
  /** From the AccessContext. */
  readonly clientId: string;
  /** From the AccessContext, when the token names a person or system other than the client. */
  readonly subject?: string;
  readonly action: AuditAction;
  /** FHIR type, or a pseudo-type such as `Message` for the admin API. */
  readonly resourceType: string;
  readonly resourceId?: string;
  /** The patient whose data was touched, as a resource ID (never an MRN or name). */
  readonly patientId?: string;
  /** The search query string (with or without `?`); see `redactQuery`. */
  readonly query?: string;
  readonly outcome: AuditOutcome;
  /**
   * Codes and ids saying how the access ended (e.g. an exchange's issuer, EHR patient id and
   * refusal reason); never demographics, never a token.
   */
  readonly detail?: Readonly<Record<string, string | number | boolean>>;
}

/** Search parameters whose values are IDs or codes, never demographics; others are redacted. */
const SAFE_PARAMS: ReadonlySet<string> = new Set([
  '_id',
  'patient',
  'subject',
  'encounter',
  'category',
  'code',
  'status',
  '_count',
  '_sort',
  '_include',
  '_revinclude',
  '_summary',
  '_elements',
  '_total',
  '_type',
  '_format',
]);

const REDACTED = 'REDACTED';

/**
 * Keeps every parameter name but replaces values of parameters that may carry PHI (name,
 * birthdate, identifier, address, ...) with `REDACTED`. Modifiers (`code:text`) keep the base
 * name's rule, except `:text`, which is free text.
 * @param query - a URL query string, with or without the leading `?`.
 */
export function redactQuery(query: string): string {
  const params = new URLSearchParams(query.startsWith('?') ? query.slice(1) : query);
  const out = new URLSearchParams();
  for (const [key, value] of params) {
    const [base = '', modifier] = key.split(':');
    const safe = SAFE_PARAMS.has(base) && modifier !== 'text';
    out.append(key, safe ? value : REDACTED);
  }
  return out.toString();
}

/**
 * Writes one audit row. Call it for every read or search of patient data, including refusals;
 * a failure to write propagates so the caller can refuse to serve unaudited data.
 * @param db - the engine database, or the transaction the access ran in.
 * @param event - IDs only.
 */
export async function recordAudit(db: Queryable, event: AuditEvent): Promise<void> {
  await db.query(
    `INSERT INTO audit_events
       (client_id, subject, action, resource_type, resource_id, patient_id, query, outcome, detail)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
    [
      event.clientId,
      event.subject ?? null,
      event.action,
      event.resourceType,
      event.resourceId ?? null,
      event.patientId ?? null,
      event.query !== undefined ? redactQuery(event.query) : null,
      event.outcome,
      event.detail !== undefined ? JSON.stringify(event.detail) : null,
    ],
  );
}
