/**
 * The FHIR store over HTTP (`/fhir`): metadata, read, vread, history and search, and the
 * registration writes of fhir-write-routes.ts; clinical data is written by the pipeline only.
 * Every request is scope-checked and audited, and every failure is an OperationOutcome.
 */
import express, { type Request, type RequestHandler, type Response, type Router } from 'express';
import { loadResourceValidator } from '../fhir/validate-resource';
import type { IdentityRules } from '../identity/link-patient';
import type { Logger } from '../observability/logger';
import type { Db, Queryable } from '../store/db';
import { readHistory, readResource, readVersion } from '../store/fhir-read';
import { searchResources } from '../store/fhir-search';
import { parseSearchQuery, type SearchQuery } from '../store/fhir-search-query';
import { isFhirStoreError } from '../store/fhir-store-error';
import type { StoredResource } from '../store/fhir-types';
import type { FhirAuditEvent } from './fhir-audit-event';
import { etagOf, toHistoryBundle, toSearchBundle } from './fhir-bundles';
import { buildCapabilityStatement } from './fhir-capability';
import {
  admitRequest,
  auditAccess,
  readableIncludes,
  visibleVersions,
  type AuditedAccess,
  type FhirHandlerContext,
} from './fhir-request-guard';
import { registerWriteRoutes } from './fhir-write-routes';
import { registerIdentityRoutes } from './identity-fhir-routes';
import { registerSubscriptionRoutes } from './subscription-routes';
import { outcome, sendOutcome } from './operation-outcome';
import type { RegistrationHooks } from './registration-hooks';
import { checkFhirQuery, fhirPathParams, parseParams } from './request-params';

export type { FhirAuditEvent } from './fhir-audit-event';

/** What the /fhir router needs from the app. */
export interface FhirRouterDeps {
  readonly db: Db;
  /** Verifies the bearer token and leaves the AccessContext in `res.locals.auth`. */
  readonly authorize: RequestHandler;
  /** Records one access; a rejection fails the request, so no data leaves unaudited. */
  readonly audit: (event: FhirAuditEvent) => Promise<void>;
  /** The same, inside a caller's transaction (writes: the audit commits with the write). */
  readonly auditIn?: (tx: Queryable, event: FhirAuditEvent) => Promise<void>;
  /** The engine's public URL (PUBLIC_URL); fullUrls are `${baseUrl}/fhir/Type/id`. */
  readonly baseUrl: string;
  /**
   * The matching rules of `$match`; with them the identity routes (PIXm, `$match`, Person,
   * `$everything`) are served. A router built without them serves the stored types only.
   */
  readonly identity?: IdentityRules;
  /** Other modules' rules on registration writes (notifications). */
  readonly registration?: RegistrationHooks;
  /** Where failures that reach no caller are reported (a registration `afterCommit` hook). */
  readonly logger?: Logger;
}

const FHIR_JSON = 'application/fhir+json';

function sendResource(res: Response, r: StoredResource): void {
  if (r.deleted) {
    sendOutcome(res, outcome('deleted', `${r.resourceType}/${r.id} version ${r.versionId} is a deletion`));
    return;
  }
  res.set('ETag', etagOf(r.versionId)).set('Last-Modified', new Date(r.lastUpdated).toUTCString());
  res.type(FHIR_JSON).json(r.resource);
}

/** The raw query string (without `?`), exactly as sent: repeats and order matter in FHIR. */
function queryStringOf(req: Request): string {
  return new URL(req.originalUrl, 'http://fhir.invalid').search.slice(1);
}

function parseOrAnswer(res: Response, type: string, queryString: string): SearchQuery | undefined {
  const params = [...new URLSearchParams(queryString)];
  if (!checkFhirQuery(res, params)) return undefined;
  try {
    return parseSearchQuery(type, params);
  } catch (err) {
    if (!isFhirStoreError(err)) throw err;
    const expression = err.expression === undefined ? undefined : [err.expression];
    sendOutcome(res, outcome(err.code, err.message, 'error', expression));
    return undefined;
  }
}

function searchHandler(h: FhirHandlerContext): RequestHandler<{ type: string }> {
  return async (req, res) => {
    const event: AuditedAccess & { readonly query: string } = {
      action: 'search',
      outcome: 'success',
      resourceType: req.params.type,
      query: queryStringOf(req),
    };
    const admitted = await admitRequest(h, res, 's', event);
    if (admitted === undefined) return;
    const query = parseOrAnswer(res, event.resourceType, event.query);
    if (query === undefined) return;
    const found = await searchResources(h.db, query, { compartmentPatients: admitted.compartmentPatients });
    const result = { ...found, included: readableIncludes(admitted.ctx, found.included) };
    await auditAccess(h, admitted.ctx, event, [...result.matches, ...result.included]);
    res.type(FHIR_JSON).json(toSearchBundle(h.baseUrl, query, result));
  };
}

/** Checks the path's id and version id; answers 400 itself when one is malformed. */
function pathIsValid(res: Response, params: Record<string, string>): boolean {
  return parseParams(res, fhirPathParams, params) !== undefined;
}

function readHandler(h: FhirHandlerContext): RequestHandler<{ type: string; id: string }> {
  return async (req, res) => {
    if (!pathIsValid(res, req.params)) return;
    const { type, id } = req.params;
    const event = { action: 'read', outcome: 'success', resourceType: type, resourceId: id } as const;
    const admitted = await admitRequest(h, res, 'r', event);
    if (admitted === undefined) return;
    const current = await readResource(h.db, type, id);
    const shown = await visibleVersions(h, admitted, res, event, current === undefined ? [] : [current]);
    if (shown?.[0] !== undefined) sendResource(res, shown[0]);
  };
}

function historyHandler(h: FhirHandlerContext): RequestHandler<{ type: string; id: string }> {
  return async (req, res) => {
    if (!pathIsValid(res, req.params)) return;
    const { type, id } = req.params;
    const event = { action: 'history', outcome: 'success', resourceType: type, resourceId: id } as const;
    const admitted = await admitRequest(h, res, 'r', event);
    if (admitted === undefined) return;
    const shown = await visibleVersions(h, admitted, res, event, await readHistory(h.db, type, id));
    if (shown === undefined) return;
    res.type(FHIR_JSON).json(toHistoryBundle(h.baseUrl, shown, `${h.baseUrl}/fhir/${type}/${id}/_history`));
  };
}

function vreadHandler(h: FhirHandlerContext): RequestHandler<{ type: string; id: string; vid: string }> {
  return async (req, res) => {
    if (!pathIsValid(res, req.params)) return;
    const { type, id, vid } = req.params;
    const event = { action: 'vread', outcome: 'success', resourceType: type, resourceId: id } as const;
    const admitted = await admitRequest(h, res, 'r', event);
    if (admitted === undefined) return;
    // A well-formed version id that is not one of ours (they count from 1) is simply not found.
    const found = /^[1-9]\d{0,8}$/.test(vid) ? await readVersion(h.db, type, id, Number(vid)) : undefined;
    const shown = await visibleVersions(h, admitted, res, event, found === undefined ? [] : [found]);
    if (shown?.[0] !== undefined) sendResource(res, shown[0]);
  };
}

const unmatched: RequestHandler = (req, res) => {
  const read = req.method === 'GET' || req.method === 'HEAD';
  const o = read
    ? outcome('not-found', `no FHIR route for ${req.path}`)
    : outcome('not-supported', `${req.method} is not supported on ${req.path}`);
  sendOutcome(res, o, read ? 404 : 405);
};

/**
 * Routes mounted at `/fhir`. `/metadata` is open; `/.well-known/*` is left to the auth side;
 * everything else passes `authorize` first. Unexpected errors go to `next(err)`: the app's
 * error handler turns them into an OperationOutcome without leaking their text.
 */
export function createFhirRouter(deps: FhirRouterDeps): Router {
  const h: FhirHandlerContext = { db: deps.db, audit: deps.audit, baseUrl: deps.baseUrl.replace(/\/+$/, '') };
  const capability = buildCapabilityStatement(h.baseUrl, new Date(), {
    identity: deps.identity !== undefined,
  });
  const router = express.Router();
  router.get('/metadata', (_req, res) => {
    res.type(FHIR_JSON).json(capability);
  });
  router.use((req, res, next) => {
    if (req.path.startsWith('/.well-known/')) next('router');
    else deps.authorize(req, res, next);
  });
  if (deps.identity !== undefined) registerIdentityRoutes(router, { ...h, rules: deps.identity });
  registerSubscriptionRoutes(router, h);
  router.get('/:type', searchHandler(h));
  router.get('/:type/:id', readHandler(h));
  router.get('/:type/:id/_history', historyHandler(h));
  router.get('/:type/:id/_history/:vid', vreadHandler(h));
  registerWriteRoutes(router, {
    ...h,
    db: deps.db,
    validator: loadResourceValidator,
    ...(deps.registration === undefined ? {} : { registration: deps.registration }),
    ...(deps.logger === undefined ? {} : { logger: deps.logger }),
    ...(deps.auditIn === undefined ? {} : { auditIn: deps.auditIn }),
  });
  router.use(unmatched);
  return router;
}
