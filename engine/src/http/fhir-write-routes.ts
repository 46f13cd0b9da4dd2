/**
 * Registration over /fhir: create, update and delete of what practices register (their
 * Organizations, Endpoints, Practitioners, roles, rosters and Subscriptions). Each write is
 * scope-checked, validated against R4, audited with the version it made, and every failure is
 * an OperationOutcome.
 */
import { randomUUID } from 'node:crypto';
import express, { type Request, type Response, type Router } from 'express';
import { decideAccess } from './fhir-access';
import type { Interaction } from '../auth/access-context';
import type { ResourceValidator } from '../fhir/validate-resource';
import { describeError } from '../observability/describe-error';
import type { Logger } from '../observability/logger';
import type { Db, Queryable } from '../store/db';
import {
  DirectWriteRefusalCode,
  isApiWritableType,
  writeDirect,
  type BeforeStore,
  type DirectWrite,
  type DirectWriteResult,
} from '../store/fhir-direct-write';
import type { JsonObject } from '../store/fhir-json';
import { isSupportedType } from '../store/fhir-search-params';
import type { StoredResource } from '../store/fhir-types';
import { etagOf } from './fhir-bundles';
import {
  admitRequest,
  auditAccess,
  type AdmittedRequest,
  type AuditedAccess,
  type FhirHandlerContext,
} from './fhir-request-guard';
import { outcome, sendOutcome, type OperationOutcome } from './operation-outcome';
import type { RegistrationHooks } from './registration-hooks';
import type { FhirAuditEvent } from './fhir-audit-event';

/** What the write routes need besides the read side's context. */
export interface FhirWriteContext extends FhirHandlerContext {
  /** Writes run in a transaction of their own. */
  readonly db: Db;
  /** The R4 validator; loaded once, on the first write. */
  readonly validator: () => Promise<ResourceValidator>;
  readonly registration?: RegistrationHooks;
  /** Where a failing `afterCommit` hook is reported. */
  readonly logger?: Logger;
  /**
   * Writes an audit event in the caller's transaction, so a write whose audit fails rolls back.
   * Without it the audit is written after commit (the embedded store has a single connection, so
   * an audit through the pool inside the write's transaction would wait on it for ever).
   */
  readonly auditIn?: (tx: Queryable, event: FhirAuditEvent) => Promise<void>;
}

type WriteKind = 'create' | 'update' | 'delete';

const INTERACTION: Readonly<Record<WriteKind, Interaction>> = { create: 'c', update: 'u', delete: 'd' };
const FHIR_JSON = 'application/fhir+json';
const JSON_TYPES = [FHIR_JSON, 'application/json'];
/** Rosters (Group.member) of large practices run to thousands of members; nothing else is near. */
const MAX_BODY_BYTES = 2 * 1024 * 1024;
const parseJson = express.json({ type: JSON_TYPES, limit: MAX_BODY_BYTES });
const ETAG_RE = /^(?:W\/)?"([1-9]\d{0,8})"$/;

/** Carries a refusal out of `db.transaction`, which rolls back only on a throw. */
class RolledBack extends Error {
  override readonly name = 'RolledBack';
  readonly result: Extract<DirectWriteResult, { ok: false }>;
  constructor(result: Extract<DirectWriteResult, { ok: false }>) {
    super(result.message);
    this.result = result;
  }
}

function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function bodyErrorType(err: unknown): string | undefined {
  return isObject(err) && typeof err['type'] === 'string' ? err['type'] : undefined;
}

/** Parses the JSON body after the scope check; answers itself (400, 413, 415) and returns undefined. */
async function readBody(req: Request, res: Response, type: string): Promise<JsonObject | undefined> {
  const is = req.is(JSON_TYPES);
  if (is === null) {
    sendOutcome(res, outcome('required', `the body must be a ${type} resource`), 400);
    return undefined;
  }
  if (is === false) {
    sendOutcome(res, outcome('not-supported', `the body must be ${JSON_TYPES.join(' or ')}`), 415);
    return undefined;
  }
  // Parsed here rather than as route middleware, so a caller without the scope is refused
  // before its body is read.
  const parsed = await new Promise<unknown>((resolve) => {
    // eslint-disable-next-line @typescript-eslint/no-unsafe-class-instance-assignment -- express's Request is the IncomingMessage body-parser reads
    parseJson(req, res, (err?: unknown) => resolve(err));
  });
  if (parsed !== undefined) {
    const kind = bodyErrorType(parsed);
    if (kind === 'entity.parse.failed') {
      sendOutcome(res, outcome('structure', 'the body is not valid JSON'), 400);
    } else if (kind === 'entity.too.large') {
      sendOutcome(res, outcome('too-costly', `the body is over ${MAX_BODY_BYTES} bytes`), 413);
    } else if (kind === 'encoding.unsupported' || kind === 'charset.unsupported') {
      sendOutcome(res, outcome('not-supported', 'the body must be UTF-8 JSON'), 415);
    } else {
      // Aborted or malformed streams: the app's error handler answers those (4xx).
      throw parsed instanceof Error ? parsed : new Error('the body could not be read');
    }
    return undefined;
  }
  const body: unknown = req.body;
  if (!isObject(body)) {
    sendOutcome(res, outcome('structure', `the body must be a ${type} resource (a JSON object)`), 400);
    return undefined;
  }
  return body;
}

/** The body checked against the path and R4; answers itself (400, 422) and returns undefined. */
async function checkedBody(
  d: FhirWriteContext,
  res: Response,
  body: JsonObject,
  type: string,
  id: string | undefined,
): Promise<JsonObject | undefined> {
  if (body['resourceType'] !== type) {
    const o = outcome('invalid', `resourceType must be ${type}, as in the URL`, 'error', ['resourceType']);
    sendOutcome(res, o, 400);
    return undefined;
  }
  if (id !== undefined && body['id'] !== id) {
    sendOutcome(
      res,
      outcome('invalid', `the body's id must be ${id}, as in the URL`, 'error', [`${type}.id`]),
      400,
    );
    return undefined;
  }
  // A create's id is the server's to assign: one sent is ignored, as FHIR says.
  const { id: _sent, ...rest } = body;
  const checked = id === undefined ? rest : body;
  const issues = (await d.validator()).validate(type, checked);
  if (issues.length === 0) return checked;
  const o: OperationOutcome = {
    resourceType: 'OperationOutcome',
    issue: issues.map((i) => ({
      severity: 'error',
      code: i.code,
      diagnostics: i.message,
      expression: [i.expression],
    })),
  };
  sendOutcome(res, o, 422);
  return undefined;
}

/** `If-Match: W/"3"` as `3`; undefined when absent; null (after answering 400) when malformed. */
function ifMatchOf(req: Request, res: Response): string | undefined | null {
  const header = req.get('if-match');
  if (header === undefined) return undefined;
  const m = ETAG_RE.exec(header.trim());
  if (m?.[1] !== undefined) return m[1];
  sendOutcome(
    res,
    outcome('invalid', 'If-Match must be a version ETag such as W/"1"', 'error', ['If-Match']),
    400,
  );
  return null;
}

function refusalOutcome(r: Extract<DirectWriteResult, { ok: false }>): {
  o: OperationOutcome;
  status: number;
} {
  switch (r.code) {
    case DirectWriteRefusalCode.NotWritable:
      return { o: outcome('not-supported', r.message), status: 405 };
    case DirectWriteRefusalCode.Invalid:
      return { o: outcome('invalid', r.message), status: 400 };
    case DirectWriteRefusalCode.NotFound:
      return { o: outcome('not-found', r.message), status: 404 };
    case DirectWriteRefusalCode.CreateNotAllowed:
      return { o: outcome('forbidden', `${r.message}: the token's scopes do not allow 'c'`), status: 403 };
    case DirectWriteRefusalCode.VersionConflict:
      return { o: outcome('conflict', r.message), status: 412 };
    case DirectWriteRefusalCode.FromMessage:
      return { o: outcome('business-rule', r.message), status: 409 };
    case DirectWriteRefusalCode.Objected: {
      const issue = (r.objections ?? []).map((x) => ({
        severity: 'error' as const,
        code: x.code ?? 'business-rule',
        diagnostics: x.message,
        expression: [x.expression],
      }));
      return { o: { resourceType: 'OperationOutcome', issue }, status: 422 };
    }
  }
}

/** Refusals that are about who may change what, not about the request: audited as denied. */
const DENIALS: ReadonlySet<string> = new Set([
  DirectWriteRefusalCode.CreateNotAllowed,
  DirectWriteRefusalCode.FromMessage,
]);

function beforeStoreOf(d: FhirWriteContext, clientId: string): (tx: Queryable) => BeforeStore | undefined {
  return (tx) =>
    d.registration?.beforeWrite === undefined
      ? undefined
      : async (w) => {
          const decision = await d.registration?.beforeWrite?.(tx, { ...w, clientId });
          return {
            ...(decision?.body !== undefined ? { body: decision.body } : {}),
            ...(decision?.issues !== undefined ? { objections: decision.issues } : {}),
          };
        };
}

function notifyCommitted(d: FhirWriteContext, stored: StoredResource): void {
  const commit = {
    type: stored.resourceType,
    id: stored.id,
    versionId: stored.versionId,
    body: stored.deleted ? undefined : stored.resource,
  };
  const report = (err: unknown): void => {
    d.logger?.warn({ err: describeError(err), type: commit.type }, 'registration afterCommit hook failed');
  };
  try {
    // Declared void, but an async hook's rejection must not go unhandled.
    const r: unknown = d.registration?.afterCommit?.(commit);
    if (r instanceof Promise) r.catch(report);
  } catch (err) {
    report(err);
  }
}

function sendWritten(
  d: FhirWriteContext,
  req: Request,
  res: Response,
  result: Extract<DirectWriteResult, { ok: true }>,
): void {
  const { stored } = result;
  res.set('ETag', etagOf(stored.versionId)).set('Last-Modified', new Date(stored.lastUpdated).toUTCString());
  if (stored.deleted) {
    res.status(204).end();
    return;
  }
  const created = result.outcome === 'created';
  if (created) {
    res.set('Location', `${d.baseUrl}/fhir/${stored.resourceType}/${stored.id}/_history/${stored.versionId}`);
  }
  res.status(created ? 201 : 200);
  if (/\breturn=minimal\b/.test(req.get('prefer') ?? '')) res.end();
  else res.type(FHIR_JSON).json(stored.resource);
}

/** Admits the write: a writable type (405), then type, id and scopes (404, 400, 403, audited). */
async function admitWrite(
  d: FhirWriteContext,
  res: Response,
  kind: WriteKind,
  event: AuditedAccess,
): Promise<AdmittedRequest | undefined> {
  const type = event.resourceType;
  if (isSupportedType(type) && !isApiWritableType(type)) {
    const o = outcome('not-supported', `${type} is read-only here: hospital data arrives over HL7 feeds`);
    sendOutcome(res, o, 405);
    return undefined;
  }
  const admitted = await admitRequest(d, res, INTERACTION[kind], event);
  if (admitted === undefined) return undefined;
  if (admitted.compartmentPatients !== undefined) {
    // patient/ scopes reach one patient's data; registration resources are nobody's chart.
    await auditAccess(d, admitted.ctx, { ...event, outcome: 'denied' }, []);
    sendOutcome(res, outcome('forbidden', `a patient-bound token cannot write ${type}`));
    return undefined;
  }
  return admitted;
}

async function handleWrite(
  d: FhirWriteContext,
  req: Request,
  res: Response,
  kind: WriteKind,
  type: string,
  id: string | undefined,
): Promise<void> {
  const event: AuditedAccess = {
    action: kind,
    outcome: 'success',
    resourceType: type,
    ...(id === undefined ? {} : { resourceId: id }),
  };
  const admitted = await admitWrite(d, res, kind, event);
  if (admitted === undefined) return;
  const { ctx } = admitted;
  let write: DirectWrite;
  if (kind === 'delete') {
    const ifMatch = ifMatchOf(req, res);
    if (ifMatch === null || id === undefined) return;
    write = { kind, type, id, ...(ifMatch === undefined ? {} : { ifMatch }) };
  } else {
    const received = await readBody(req, res, type);
    if (received === undefined) return;
    const body = await checkedBody(d, res, received, type, id);
    if (body === undefined) return;
    const ifMatch = kind === 'update' ? ifMatchOf(req, res) : undefined;
    if (ifMatch === null) return;
    if (kind === 'create' || id === undefined) write = { kind: 'create', type, body };
    else {
      const create = decideAccess(ctx, type, 'c');
      const mayCreate = create.allowed && create.compartmentPatients === undefined;
      write = { kind, type, id, body, mayCreate, ...(ifMatch === undefined ? {} : { ifMatch }) };
    }
  }
  const requestId = randomUUID();
  res.set('X-Request-Id', requestId);
  const beforeStore = beforeStoreOf(d, ctx.clientId);
  let result: DirectWriteResult;
  try {
    result = await d.db.transaction(async (tx) => {
      const r = await writeDirect(tx, write, { clientId: ctx.clientId, requestId }, beforeStore(tx));
      if (!r.ok) throw new RolledBack(r);
      // Inside the transaction: a write whose audit fails is rolled back, never left unaudited.
      const auditIn = d.auditIn;
      if (auditIn !== undefined) {
        await auditAccess(
          { ...d, audit: (e) => auditIn(tx, e) },
          ctx,
          { ...event, resourceId: r.stored.id },
          [r.stored],
        );
      }
      return r;
    });
    if (d.auditIn === undefined && result.ok) {
      await auditAccess(d, ctx, { ...event, resourceId: result.stored.id }, [result.stored]);
    }
  } catch (err) {
    if (!(err instanceof RolledBack)) throw err;
    result = err.result;
  }
  if (!result.ok) {
    if (DENIALS.has(result.code)) await auditAccess(d, ctx, { ...event, outcome: 'denied' }, []);
    const { o, status } = refusalOutcome(result);
    sendOutcome(res, o, status);
    return;
  }
  if (result.outcome !== 'unchanged') notifyCommitted(d, result.stored);
  sendWritten(d, req, res, result);
}

/**
 * Registers `POST /:type`, `PUT /:type/:id` and `DELETE /:type/:id` on the /fhir router, after
 * its bearer-token check and before its catch-all.
 */
export function registerWriteRoutes(router: Router, d: FhirWriteContext): void {
  router.post('/:type', async (req: Request<{ type: string }>, res) => {
    await handleWrite(d, req, res, 'create', req.params.type, undefined);
  });
  router.put('/:type/:id', async (req: Request<{ type: string; id: string }>, res) => {
    await handleWrite(d, req, res, 'update', req.params.type, req.params.id);
  });
  router.delete('/:type/:id', async (req: Request<{ type: string; id: string }>, res) => {
    await handleWrite(d, req, res, 'delete', req.params.type, req.params.id);
  });
}
