/**
 * The checks every /fhir read and search passes through, in one order: supported type, valid
 * id, scopes, patient restriction (also on includes), audit. Handlers only run the store query.
 */
import type { Response } from 'express';
import { getAccessContext, type AccessContext, type Interaction } from '../auth/access-context';
import type { Queryable } from '../store/db';
import { isSupportedType } from '../store/fhir-search-params';
import type { StoredResource } from '../store/fhir-types';
import { admits, decideAccess, namesOtherPatient, withinPatients, type FhirAccess } from './fhir-access';
import { describeReturned, type FhirAuditEvent } from './fhir-audit-event';
import { outcome, sendOutcome } from './operation-outcome';
import { FHIR_ID_RE } from './request-params';

/** What the /fhir handlers share. */
export interface FhirHandlerContext {
  readonly db: Queryable;
  readonly audit: (event: FhirAuditEvent) => Promise<void>;
  /** Public URL without a trailing slash. */
  readonly baseUrl: string;
}

/** A request that passed the scope check. */
export interface AdmittedRequest {
  readonly ctx: AccessContext;
  /** Set when only these patients' data may be returned. */
  readonly compartmentPatients: ReadonlySet<string> | undefined;
}

/** The audit event without who asked and what came back, which `auditAccess` fills in. */
export type AuditedAccess = Omit<FhirAuditEvent, 'clientId' | 'subject' | 'returned' | 'patientIds'>;

/**
 * Records one access. `attempted` names the patients of a refused access, whose `returned`
 * is empty.
 */
export async function auditAccess(
  h: FhirHandlerContext,
  ctx: AccessContext,
  event: AuditedAccess,
  returned: readonly StoredResource[],
  attempted: readonly StoredResource[] = returned,
): Promise<void> {
  const { patientIds } = describeReturned(attempted);
  const who = { clientId: ctx.clientId, ...(ctx.subject === undefined ? {} : { subject: ctx.subject }) };
  await h.audit({ ...event, ...who, returned: describeReturned(returned).returned, patientIds });
}

/**
 * Checks type, id, scopes and, for a Patient id, the patient restriction. Returns the admitted
 * request, or undefined after answering itself (404 type, 400 id, 403 scopes or another
 * patient; a refusal is audited).
 */
export async function admitRequest(
  h: FhirHandlerContext,
  res: Response,
  interaction: Interaction,
  event: AuditedAccess,
): Promise<AdmittedRequest | undefined> {
  const type = event.resourceType;
  if (!isSupportedType(type)) {
    sendOutcome(res, outcome('not-found', `resource type ${type} is not supported`));
    return undefined;
  }
  if (event.resourceId !== undefined && !FHIR_ID_RE.test(event.resourceId)) {
    sendOutcome(
      res,
      outcome('invalid', `${JSON.stringify(event.resourceId)} is not a valid FHIR id`, 'error', ['id']),
    );
    return undefined;
  }
  const ctx = getAccessContext(res);
  const access = decideAccess(ctx, type, interaction);
  if (!access.allowed) {
    await auditAccess(h, ctx, { ...event, outcome: 'denied' }, []);
    sendOutcome(res, outcome('forbidden', access.reason));
    return undefined;
  }
  if (namesOtherPatient(access.compartmentPatients, type, event.resourceId)) {
    await h.audit({
      ...event,
      outcome: 'denied',
      clientId: ctx.clientId,
      ...(ctx.subject === undefined ? {} : { subject: ctx.subject }),
      returned: [],
      patientIds: event.resourceId === undefined ? [] : [event.resourceId],
    });
    sendOutcome(res, outcome('forbidden', `this token may not see Patient/${event.resourceId ?? ''}`));
    return undefined;
  }
  return { ctx, compartmentPatients: access.compartmentPatients };
}

/**
 * The versions the caller may see, audited. Answers 404 itself when nothing was stored, and
 * also when the patient restriction hides what was (audited as denied), so a patient-bound
 * token learns nothing about other patients.
 */
export async function visibleVersions(
  h: FhirHandlerContext,
  admitted: AdmittedRequest,
  res: Response,
  event: AuditedAccess & { readonly resourceId: string },
  versions: readonly StoredResource[],
): Promise<StoredResource[] | undefined> {
  const shown = versions.filter((v) => withinPatients(admitted.compartmentPatients, v));
  if (shown.length > 0) {
    await auditAccess(h, admitted.ctx, event, shown);
    return shown;
  }
  const denied = versions.length > 0;
  await auditAccess(h, admitted.ctx, { ...event, outcome: denied ? 'denied' : 'success' }, [], versions);
  sendOutcome(res, outcome('not-found', `${event.resourceType}/${event.resourceId} not found`));
  return undefined;
}

/**
 * The `_include`d resources the caller may read: an include is a read of another type, so it
 * needs that type's scope and stays within that scope's patients. Without this, a search could
 * return resources no scope of the token grants.
 */
export function readableIncludes(ctx: AccessContext, included: readonly StoredResource[]): StoredResource[] {
  const byType = new Map<string, FhirAccess>();
  return included.filter((r) => {
    let access = byType.get(r.resourceType);
    if (access === undefined) {
      access = decideAccess(ctx, r.resourceType, 'r');
      byType.set(r.resourceType, access);
    }
    return admits(access, r);
  });
}
