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
import { createErrorsRouter } from './errors-router';
import type { FhirAuditEvent } from './fhir-audit-event';
import { createFhirRouter } from './fhir-router';
import { createIdentityAdminRouter } from './identity-admin-routes';
import { outcome, sendOutcome } from './operation-outcome';
import { createRosterRouter } from './roster-routes';
import type { RegistrationHooks } from './registration-hooks';
import { createDeliveryRouter } from './delivery-routes';
import { createInboxRouter } from './inbox-routes';
import { createMappingRouter } from './mapping-routes';
import { createSmartAppRouter, SMART_APP_DIST_DIR } from './smart-app-routes';
import { createConsole } from './console-routes';
import { requireConsoleSession } from './console-session-auth';
import { createOperationsRouter } from './operations-routes';
import { createQueueBoardRouter, QUEUE_BOARD_PATH } from './queue-board-routes';
import { createReplayRouter } from './replay-routes';
import type { ReplayJobData } from '../queue/replay-queue';
import type { DeliverJobData } from '../queue/deliver-queue';

export interface HttpAppDeps {
  readonly config: Config;
  readonly db: Db;
  readonly queue: Queue<ProcessJobData>;
  /** For an analyst's retry of a dead-lettered notice. */
  readonly deliverQueue: Queue<DeliverJobData>;
  /** Bulk replays: the HTTP side adds the job, a worker does it. */
  readonly replayQueue: Queue<ReplayJobData>;
  /** Every queue of the engine, for the operations figures and Bull Board. */
  readonly queues: readonly Queue[];
  readonly producer: Redis;
  readonly metrics: EngineMetrics;
  readonly auth: AuthRuntime;
  readonly logger: Logger;
  /** Other modules' rules on registration writes over /fhir (notifications). */
  readonly registration?: RegistrationHooks;
  /**
   * Switches this process's workers to the mappings on disk now, for a deploy over the mapping
   * API; unset when no worker runs here (ENGINE_ROLE=http: the workers' watchers reload).
   */
  readonly reloadMappings?: () => Promise<string>;
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
  // Every /api router admits callers through this one check.
  // A bearer token, else an analyst's console session cookie with its CSRF header.
  const analystConsole = createConsole({
    config: deps.config,
    db: deps.db,
    producer: deps.producer,
    bearer: deps.auth.authorize,
    audit: deps.auth.audit,
    logger: deps.logger,
    distDir: SMART_APP_DIST_DIR,
  });
  const apiAuthorize = analystConsole.authorize;
  // Before anything under /console: requireConsoleSession reads the session it finds.
  app.use('/console', analystConsole.loadSession);
  app.use('/console', analystConsole.router);
  app.use(
    '/api/mappings',
    createMappingRouter({
      db: deps.db,
      dir: deps.config.mappingsDir,
      defaultTimezone: deps.config.defaultTimezone,
      authorize: apiAuthorize,
      audit: deps.auth.audit,
      ...(deps.reloadMappings !== undefined ? { reload: deps.reloadMappings } : {}),
      logger: deps.logger,
    }),
  );
  // Before `/api`: the admin router's `/messages/:id` must not see `/messages/replay`.
  app.use(
    '/api/messages/replay',
    createReplayRouter({
      db: deps.db,
      replayQueue: deps.replayQueue,
      authorize: apiAuthorize,
      audit: deps.auth.audit,
    }),
  );
  app.use(
    '/api/operations',
    createOperationsRouter({
      db: deps.db,
      metrics: deps.metrics,
      queues: deps.queues,
      authorize: apiAuthorize,
      audit: deps.auth.audit,
    }),
  );
  // After the console router, which leaves `/console/queues` alone (and after loadSession).
  app.use(
    QUEUE_BOARD_PATH,
    createQueueBoardRouter({
      queues: deps.queues,
      bearer: deps.auth.authorize,
      consoleSession: requireConsoleSession,
    }),
  );
  app.use(
    '/api/errors',
    createErrorsRouter({ db: deps.db, authorize: apiAuthorize, audit: deps.auth.audit }),
  );
  // Before `/api`: the identity router answers everything under its own prefix.
  app.use(
    '/api/identity',
    createIdentityAdminRouter({ db: deps.db, authorize: apiAuthorize, audit: deps.auth.audit }),
  );
  app.use(
    '/api/roster',
    createRosterRouter({
      db: deps.db,
      authorize: apiAuthorize,
      audit: deps.auth.audit,
      rules: identityRules(deps.config.identity),
    }),
  );
  app.use(
    '/api/deliveries',
    createDeliveryRouter({
      db: deps.db,
      deliverQueue: deps.deliverQueue,
      authorize: apiAuthorize,
      audit: deps.auth.audit,
    }),
  );
  app.use('/api/inbox', createInboxRouter({ db: deps.db, authorize: apiAuthorize, audit: deps.auth.audit }));
  app.use(
    '/api',
    createAdminRouter({
      db: deps.db,
      queue: deps.queue,
      authorize: apiAuthorize,
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
