/**
 * The engine's HTTP surface in one place: health, metrics and discovery are open; the token
 * endpoint takes client assertions; everything else needs a bearer token. Every failure is an
 * OperationOutcome, and no error text from inside ever reaches the caller.
 */
import express, { type Express } from 'express';
import type { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import type { AuthRuntime } from '../auth/auth-runtime';
import { recordAudit, type AuditEvent } from '../auth/audit-log';
import { identityRules } from '../identity/link-patient';
import type { Config } from '../config/schema';
import type { Logger } from '../observability/logger';
import type { EngineMetrics } from '../observability/metrics';
import type { Db } from '../store/db';
import type { ProcessJobData } from '../queue/process-queue';
import { createAdminRouter } from './admin-router';
import { createCorsPolicy } from './cors-policy';
import { createErrorHandler } from './error-handler';
import type { FhirAuditEvent } from './fhir-audit-event';
import { createFhirRouter } from './fhir-router';
import { createIdentityAdminRouter } from './identity-admin-routes';
import { outcome, sendOutcome } from './operation-outcome';
import { createRosterRouter } from './roster-routes';
import type { RegistrationHooks } from './registration-hooks';
import { createDeliveryRouter } from './delivery-routes';
import { createInboxRouter } from './inbox-routes';
import { createSmartAppRouter, SMART_APP_DIST_DIR } from './smart-app-routes';
import type { DeliverJobData } from '../queue/deliver-queue';

export interface HttpAppDeps {
  readonly config: Config;
  readonly db: Db;
  readonly queue: Queue<ProcessJobData>;
  /** For an analyst's retry of a dead-lettered notice. */
  readonly deliverQueue: Queue<DeliverJobData>;
  readonly producer: Redis;
  readonly metrics: EngineMetrics;
  readonly auth: AuthRuntime;
  readonly logger: Logger;
  /** Other modules' rules on registration writes over /fhir (notifications). */
  readonly registration?: RegistrationHooks;
}

/** Builds the express app; the caller listens. */
export function createHttpApp(deps: HttpAppDeps): Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('query parser', 'simple');

  app.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });
  app.get('/readyz', async (_req, res) => {
    const [store, queue] = await Promise.all([
      probe(() => deps.db.query('SELECT 1')),
      probe(() => deps.producer.ping()),
    ]);
    const ready = store === 'up' && queue === 'up';
    res.status(ready ? 200 : 503).json({ status: ready ? 'ready' : 'unavailable', store, queue });
  });
  app.get('/metrics', async (_req, res) => {
    res.type(deps.metrics.registry.contentType).send(await deps.metrics.registry.metrics());
  });
  // Before discovery, the token endpoint and /fhir: it answers their preflights.
  app.use(['/fhir', '/auth'], createCorsPolicy(deps.config.cors.allowedOrigins));
  app.get('/fhir/.well-known/smart-configuration', (_req, res) => {
    res.json(deps.auth.smartConfiguration);
  });

  app.use('/auth', deps.auth.tokenRouter);
  app.use(
    '/fhir',
    createFhirRouter({
      db: deps.db,
      authorize: deps.auth.authorize,
      baseUrl: deps.config.http.publicUrl,
      identity: identityRules(deps.config.identity),
      audit: (e) => auditFhirAccess(deps.auth.audit, e),
      auditIn: (tx, e) => auditFhirAccess((event) => recordAudit(tx, event), e),
      logger: deps.logger,
      ...(deps.registration === undefined ? {} : { registration: deps.registration }),
    }),
  );
  // Before `/api`: the identity router answers everything under its own prefix.
  app.use(
    '/api/identity',
    createIdentityAdminRouter({ db: deps.db, authorize: deps.auth.authorize, audit: deps.auth.audit }),
  );
  app.use(
    '/api/roster',
    createRosterRouter({
      db: deps.db,
      authorize: deps.auth.authorize,
      audit: deps.auth.audit,
      rules: identityRules(deps.config.identity),
    }),
  );
  app.use(
    '/api/deliveries',
    createDeliveryRouter({
      db: deps.db,
      deliverQueue: deps.deliverQueue,
      authorize: deps.auth.authorize,
      audit: deps.auth.audit,
    }),
  );
  app.use(
    '/api/inbox',
    createInboxRouter({ db: deps.db, authorize: deps.auth.authorize, audit: deps.auth.audit }),
  );
  app.use(
    '/api',
    createAdminRouter({
      db: deps.db,
      queue: deps.queue,
      authorize: deps.auth.authorize,
      audit: (e) =>
        deps.auth.audit({
          clientId: e.ctx.clientId,
          ...(e.ctx.subject !== undefined ? { subject: e.ctx.subject } : {}),
          action: e.action === 'replay' ? 'operation' : e.action,
          resourceType: 'Message',
          ...(e.messageIds.length === 1 && e.messageIds[0] !== undefined
            ? { resourceId: e.messageIds[0] }
            : {}),
          ...(e.query !== undefined ? { query: e.query } : {}),
          outcome: 'success',
        }),
    }),
  );

  app.use(
    '/app',
    createSmartAppRouter({ distDir: SMART_APP_DIST_DIR, clientId: deps.config.smartAppClientId }),
  );

  app.use((req, res) => {
    sendOutcome(res, outcome('not-found', `no route for ${req.method} ${req.path}`));
  });
  app.use(createErrorHandler(deps.logger));
  return app;
}

/** One audit row per patient whose data was touched, so "who saw this patient" is one query. */
async function auditFhirAccess(
  write: (event: AuditEvent) => Promise<void>,
  e: FhirAuditEvent,
): Promise<void> {
  const base = {
    clientId: e.clientId,
    ...(e.subject !== undefined ? { subject: e.subject } : {}),
    action: e.action,
    resourceType: e.resourceType,
    ...(e.resourceId !== undefined ? { resourceId: e.resourceId } : {}),
    ...(e.query !== undefined ? { query: e.query } : {}),
    outcome: e.outcome,
  };
  if (e.patientIds.length === 0) {
    await write(base);
    return;
  }
  for (const patientId of e.patientIds) await write({ ...base, patientId });
}

/**
 * A readiness check's own deadline, under the 2 s a probe waits: a stalled store is `down` now,
 * not when its driver's timeout fires (or never).
 */
const READY_CHECK_MS = 1_500;

async function probe(check: () => Promise<unknown>): Promise<'up' | 'down'> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<'down'>((resolve) => {
    timer = setTimeout(() => resolve('down'), READY_CHECK_MS);
  });
  try {
    // The abandoned check settles later, within its driver's own timeout; its outcome is dropped.
    return await Promise.race([
      check().then(
        () => 'up' as const,
        () => 'down' as const,
      ),
      deadline,
    ]);
  } finally {
    clearTimeout(timer);
  }
}
