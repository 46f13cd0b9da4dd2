/**
 * The admin API's access rule and audit, shared by its routers: a request needs its scopes
 * without patient restriction (reviews, rosters and deliveries span patients, so no patient-bound
 * token may use them), a refusal is audited and answered 403, and a success writes one audit row
 * per patient touched (or one without a patient), so "who saw X" is one query.
 */
import type { Response } from 'express';
import { getAccessContext, type AccessContext, type Interaction } from '../auth/access-context';
import type { AuditEvent } from '../auth/audit-log';
import { decideAccess } from './fhir-access';
import { outcome, sendOutcome } from './operation-outcome';

/** What one audited action says besides who did it and to which patients. */
export type AdminAuditEntry = Pick<AuditEvent, 'action' | 'outcome' | 'detail'> & {
  readonly resourceId?: string;
  readonly query?: string;
};

export interface AdminAccess {
  /** The caller, when every `needs` is granted on every patient; else undefined, answered 403. */
  readonly allowed: (
    res: Response,
    needs: readonly (readonly [string, Interaction])[],
    action: AuditEvent['action'],
  ) => Promise<AccessContext | undefined>;
  readonly audit: (
    ctx: AccessContext,
    entry: AdminAuditEntry,
    patientIds: readonly string[],
  ) => Promise<void>;
}

/**
 * @param write - the audit writer (auth runtime's `audit`).
 * @param resourceType - the (pseudo-)type audit rows name: `IdentityReview`, `Group`, `Delivery`.
 */
export function adminAccess(write: (event: AuditEvent) => Promise<void>, resourceType: string): AdminAccess {
  const audit: AdminAccess['audit'] = async (ctx, entry, patientIds) => {
    const base: AuditEvent = {
      clientId: ctx.clientId,
      ...(ctx.subject !== undefined ? { subject: ctx.subject } : {}),
      resourceType,
      ...entry,
    };
    if (patientIds.length === 0) {
      await write(base);
      return;
    }
    for (const patientId of new Set(patientIds)) await write({ ...base, patientId });
  };
  return {
    audit,
    allowed: async (res, needs, action) => {
      const ctx = getAccessContext(res);
      for (const [type, interaction] of needs) {
        const access = decideAccess(ctx, type, interaction);
        if (!access.allowed || access.compartmentPatients !== undefined) {
          await audit(ctx, { action, outcome: 'denied' }, []);
          sendOutcome(
            res,
            outcome('forbidden', `scope does not allow ${type}.${interaction} on every patient`),
          );
          return undefined;
        }
      }
      return ctx;
    },
  };
}
