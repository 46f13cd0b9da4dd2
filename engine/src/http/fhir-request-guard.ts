/**
 * The checks every /fhir read and search passes through, in one order: supported type, valid
 * id, scopes, patient restriction, audit. Handlers only run the store query in between.
 */
import type { Response } from 'express';
import type { AccessContext, Interaction } from '../auth/access-context';
import type { Queryable } from '../store/db';
import { isInPatientCompartment } from '../store/fhir-compartment';
import { isSupportedType } from '../store/fhir-search-params';
import type { StoredResource } from '../store/fhir-types';
import { accessContextOf, decideAccess } from './fhir-access';
import { describeReturned, type FhirAuditEvent } from './fhir-audit-event';
import { outcome, sendOutcome } from './operation-outcome';

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
  /** Set when only this patient's data may be returned. */
  readonly compartmentPatient: string | undefined;
}

/** The audit event without who asked and what came back, which `auditAccess` fills in. */
export type AuditedAccess = Omit<FhirAuditEvent, 'clientId' | 'subject' | 'returned' | 'patientIds'>;

const ID_RE = /^[A-Za-z0-9\-.]{1,64}$/;

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
 * Checks type, id and scopes. Returns the admitted request, or undefined after answering
 * itself (404 type, 400 id, 403 scopes; a refusal is audited).
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
  if (event.resourceId !== undefined && !ID_RE.test(event.resourceId)) {
    sendOutcome(res, outcome('invalid', `"${event.resourceId}" is not a valid FHIR id`));
    return undefined;
  }
  const ctx = accessContextOf(res);
  const access = decideAccess(ctx, type, interaction);
  if (!access.allowed) {
    await auditAccess(h, ctx, { ...event, outcome: 'denied' }, []);
    sendOutcome(res, outcome('forbidden', access.reason));
    return undefined;
  }
  return { ctx, compartmentPatient: access.compartmentPatient };
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
  const patient = admitted.compartmentPatient;
  const shown =
    patient === undefined
      ? [...versions]
      : versions.filter((v) => isInPatientCompartment(v.resourceType, v.resource, patient));
  if (shown.length > 0) {
    await auditAccess(h, admitted.ctx, event, shown);
    return shown;
  }
  const denied = versions.length > 0;
  await auditAccess(h, admitted.ctx, { ...event, outcome: denied ? 'denied' : 'success' }, [], versions);
  sendOutcome(res, outcome('not-found', `${event.resourceType}/${event.resourceId} not found`));
  return undefined;
}
