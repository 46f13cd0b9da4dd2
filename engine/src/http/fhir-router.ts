/**
 * The read side of the FHIR store over HTTP (`/fhir`): metadata, read, vread, history and
 * search. Writes come only from the pipeline. Every request is scope-checked and audited, and
 * every failure is an OperationOutcome.
 */
import express, { type Request, type RequestHandler, type Response, type Router } from 'express';
import type { AccessContext, Interaction } from '../auth/access-context';
import type { Db } from '../store/db';
import { isInPatientCompartment } from '../store/fhir-compartment';
import { readHistory, readResource, readVersion } from '../store/fhir-read';
import { searchResources } from '../store/fhir-search';
import { isSupportedType } from '../store/fhir-search-params';
import { parseSearchQuery } from '../store/fhir-search-query';
import { isFhirStoreError } from '../store/fhir-store-error';
import type { StoredResource } from '../store/fhir-types';
import { accessContextOf, decideAccess } from './fhir-access';
import { describeReturned, type FhirAuditEvent } from './fhir-audit-event';
import { etagOf, toHistoryBundle, toSearchBundle } from './fhir-bundles';
import { buildCapabilityStatement } from './fhir-capability';
import { outcome, sendOutcome } from './operation-outcome';

export type { FhirAuditEvent } from './fhir-audit-event';

/** What the /fhir router needs from the app. */
export interface FhirRouterDeps {
  readonly db: Db;
  /** Verifies the bearer token and leaves the AccessContext in `res.locals.auth`. */
  readonly authorize: RequestHandler;
  /** Records one access; a rejection fails the request, so no data leaves unaudited. */
  readonly audit: (event: FhirAuditEvent) => Promise<void>;
  /** The engine's public URL (PUBLIC_URL); fullUrls are `${baseUrl}/fhir/Type/id`. */
  readonly baseUrl: string;
}

const FHIR_JSON = 'application/fhir+json';
const ID_RE = /^[A-Za-z0-9\-.]{1,64}$/;

type Action = FhirAuditEvent['action'];

interface Target {
  readonly ctx: AccessContext;
  readonly compartmentPatient: string | undefined;
}

function sendResource(res: Response, r: StoredResource): void {
  res.set('ETag', etagOf(r.versionId)).set('Last-Modified', new Date(r.lastUpdated).toUTCString());
  res.type(FHIR_JSON).json(r.resource);
}

/**
 * Routes mounted at `/fhir`. Unexpected errors go to `next(err)`: the app's error handler
 * turns them into an OperationOutcome without leaking their text.
 */
export function createFhirRouter(deps: FhirRouterDeps): Router {
  const baseUrl = deps.baseUrl.replace(/\/+$/, '');
  const capability = buildCapabilityStatement(baseUrl, new Date());
  const router = express.Router();

  router.get('/metadata', (_req, res) => {
    res.type(FHIR_JSON).json(capability);
  });
  // Discovery is served by the auth side under the same prefix and needs no token.
  router.use((req, res, next) => {
    if (req.path.startsWith('/.well-known/')) {
      next('router');
      return;
    }
    deps.authorize(req, res, next);
  });

  /** Audits `returned`; `attempted` names the patients of a refused access instead. */
  const audit = async (
    ctx: AccessContext,
    event: Omit<FhirAuditEvent, 'clientId' | 'subject' | 'returned' | 'patientIds'>,
    returned: readonly StoredResource[],
    attempted: readonly StoredResource[] = returned,
  ): Promise<void> => {
    const { patientIds } = describeReturned(attempted);
    const who = { clientId: ctx.clientId, ...(ctx.subject === undefined ? {} : { subject: ctx.subject }) };
    await deps.audit({ ...event, ...who, returned: describeReturned(returned).returned, patientIds });
  };

  /** Checks type and scopes; answers (and audits a refusal) itself when the request stops here. */
  const admit = async (
    res: Response,
    action: Action,
    interaction: Interaction,
    type: string,
    asked: { resourceId: string } | { query: string },
  ): Promise<Target | undefined> => {
    if (!isSupportedType(type)) {
      sendOutcome(res, outcome('not-found', `resource type ${type} is not supported`));
      return undefined;
    }
    if ('resourceId' in asked && !ID_RE.test(asked.resourceId)) {
      sendOutcome(res, outcome('invalid', `"${asked.resourceId}" is not a valid FHIR id`));
      return undefined;
    }
    const ctx = accessContextOf(res);
    const access = decideAccess(ctx, type, interaction);
    if (!access.allowed) {
      await audit(ctx, { action, outcome: 'denied', resourceType: type, ...asked }, []);
      sendOutcome(res, outcome('forbidden', access.reason));
      return undefined;
    }
    return { ctx, compartmentPatient: access.compartmentPatient };
  };

  /**
   * Answers 404 when nothing was stored, and also when the caller's patient restriction hides
   * what was (audited as denied): a patient-bound token learns nothing about other patients.
   */
  const withVisible = async (
    t: Target,
    res: Response,
    action: Action,
    type: string,
    id: string,
    versions: readonly StoredResource[],
  ): Promise<StoredResource[] | undefined> => {
    const patient = t.compartmentPatient;
    const shown =
      patient === undefined
        ? [...versions]
        : versions.filter((v) => isInPatientCompartment(type, v.resource, patient));
    if (shown.length > 0) {
      await audit(t.ctx, { action, outcome: 'success', resourceType: type, resourceId: id }, shown);
      return shown;
    }
    const denied = versions.length > 0;
    const event = {
      action,
      outcome: denied ? 'denied' : 'success',
      resourceType: type,
      resourceId: id,
    } as const;
    await audit(t.ctx, event, [], versions);
    sendOutcome(res, outcome('not-found', `${type}/${id} not found`));
    return undefined;
  };

  router.get('/:type', async (req, res) => {
    const { type } = req.params;
    const queryString = queryStringOf(req);
    const t = await admit(res, 'search', 's', type, { query: queryString });
    if (t === undefined) return;
    let query;
    try {
      query = parseSearchQuery(type, new URLSearchParams(queryString));
    } catch (err) {
      if (!isFhirStoreError(err)) throw err;
      const expression = err.expression === undefined ? undefined : [err.expression];
      sendOutcome(res, outcome(err.code, err.message, 'error', expression));
      return;
    }
    const result = await searchResources(deps.db, query, { compartmentPatient: t.compartmentPatient });
    await audit(t.ctx, { action: 'search', outcome: 'success', resourceType: type, query: queryString }, [
      ...result.matches,
      ...result.included,
    ]);
    res.type(FHIR_JSON).json(toSearchBundle(baseUrl, query, result));
  });

  router.get('/:type/:id', async (req, res) => {
    const { type, id } = req.params;
    const t = await admit(res, 'read', 'r', type, { resourceId: id });
    if (t === undefined) return;
    const current = await readResource(deps.db, type, id);
    const [stored] =
      (await withVisible(t, res, 'read', type, id, current === undefined ? [] : [current])) ?? [];
    if (stored === undefined) return;
    if (stored.deleted) sendOutcome(res, outcome('deleted', `${type}/${id} was deleted`));
    else sendResource(res, stored);
  });

  router.get('/:type/:id/_history', async (req, res) => {
    const { type, id } = req.params;
    const t = await admit(res, 'history', 'r', type, { resourceId: id });
    if (t === undefined) return;
    const versions = await withVisible(t, res, 'history', type, id, await readHistory(deps.db, type, id));
    if (versions === undefined) return;
    res.type(FHIR_JSON).json(toHistoryBundle(baseUrl, versions, `${baseUrl}/fhir/${type}/${id}/_history`));
  });

  router.get('/:type/:id/_history/:vid', async (req, res) => {
    const { type, id, vid } = req.params;
    const t = await admit(res, 'vread', 'r', type, { resourceId: id });
    if (t === undefined) return;
    const found = /^[1-9]\d{0,8}$/.test(vid) ? await readVersion(deps.db, type, id, Number(vid)) : undefined;
    const [stored] = (await withVisible(t, res, 'vread', type, id, found === undefined ? [] : [found])) ?? [];
    if (stored === undefined) return;
    if (stored.deleted) sendOutcome(res, outcome('deleted', `${type}/${id} version ${vid} is a deletion`));
    else sendResource(res, stored);
  });

  router.use((req, res) => {
    const read = req.method === 'GET' || req.method === 'HEAD';
    const o = read
      ? outcome('not-found', `no FHIR route for ${req.path}`)
      : outcome('not-supported', `${req.method} is not supported: the FHIR API is read-only`);
    sendOutcome(res, o, read ? 404 : 405);
  });
  return router;
}

/** The raw query string (without `?`), exactly as sent: repeats and order matter in FHIR. */
function queryStringOf(req: Request): string {
  return new URL(req.originalUrl, 'http://fhir.invalid').search.slice(1);
}
