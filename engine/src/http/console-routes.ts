/**
 * The analyst console at `/console`: its sign-in (password, OpenID Connect), the session check
 * every /api router admits console users through, and the page. Built once from configuration;
 * `createHttpApp` mounts `loadSession` and `router` at `/console` and uses `authorize` for /api.
 */
import express, { type RequestHandler, type Router } from 'express';
import type { Redis } from 'ioredis';
import type { AuditEvent } from '../auth/audit-log';
import { createConsoleLoginLimiter } from '../auth/console-login-limiter';
import { createConsoleOidc } from '../auth/console-oidc';
import { createOidcLoginStore } from '../auth/console-oidc-logins';
import { createConsoleSessionStore } from '../auth/console-sessions';
import { openConsoleUserDirectory } from '../auth/console-users';
import type { Config } from '../config/schema';
import type { Logger } from '../observability/logger';
import type { Db } from '../store/db';
import { createConsoleAuthRouter } from './console-auth-routes';
import { createConsoleOidcRouter } from './console-oidc-routes';
import { serveConsolePage } from './console-page';
import { createConsoleSessionAuth } from './console-session-auth';
import { outcome, sendOutcome } from './operation-outcome';

export interface ConsoleDeps {
  readonly config: Config;
  readonly db: Db;
  /** The engine's producer connection: the sign-in rate limiter's counts. */
  readonly producer: Redis;
  /** The bearer-token check, for requests with an Authorization header. */
  readonly bearer: RequestHandler;
  readonly audit: (event: AuditEvent) => Promise<void>;
  readonly logger: Logger;
  /** `smart-app/dist`, where the console page is built. */
  readonly distDir: string;
}

export interface Console {
  /** Every /api router's admission: bearer token, else session cookie plus CSRF header. */
  readonly authorize: RequestHandler;
  /** Mount at `/console` before anything under it that asks for a role (`requireConsoleSession`). */
  readonly loadSession: RequestHandler;
  /** Mount at `/console`: sign-in routes and the page. */
  readonly router: Router;
}

/**
 * Loads the users file (an invalid one stops the start) and wires sign-in.
 * @throws ConsoleUsersError, or ConsoleOidcError for an unusable CONSOLE_OIDC_ISSUER.
 */
export function createConsole(deps: ConsoleDeps): Console {
  const { config } = deps;
  const publicUrl = config.http.publicUrl.replace(/\/$/, '');
  const users = openConsoleUserDirectory(config.console.usersFile);
  const sessions = createConsoleSessionStore(deps.db, { ttlMs: config.console.sessionTtlMs });
  const redirectUri = `${publicUrl}/console/auth/oidc/callback`;
  const oidc =
    config.console.oidc === undefined
      ? undefined
      : createConsoleOidc({
          settings: config.console.oidc,
          redirectUri,
          logins: createOidcLoginStore(deps.db),
        });
  const auth = createConsoleSessionAuth({ bearer: deps.bearer, sessions, users, publicUrl });

  const router = express.Router();
  router.use(
    '/auth/oidc',
    createConsoleOidcRouter({
      oidc,
      sessions,
      publicUrl,
      redirectUri,
      audit: deps.audit,
      logger: deps.logger,
    }),
  );
  router.use(
    '/auth',
    createConsoleAuthRouter({
      sessions,
      users,
      limiter: createConsoleLoginLimiter({
        redis: deps.producer,
        prefix: config.redis.prefix,
        maxFailures: config.console.loginMaxFailures,
      }),
      oidcEnabled: oidc !== undefined,
      publicUrl,
      audit: deps.audit,
      logger: deps.logger,
    }),
  );
  router.use('/auth', (req, res) => {
    sendOutcome(res, outcome('not-found', `no route for ${req.method} /console/auth${req.path}`));
  });
  // Bull Board, mounted by the operations routes behind requireConsoleSession and the `Queue.u` scope.
  router.use('/queues', (_req, _res, next) => next('router'));
  router.get('/', (req, res, next) => {
    // `/console` itself: the page's relative URLs need the trailing slash.
    if (new URL(req.originalUrl, 'http://console.invalid').pathname === '/console') {
      const query = req.originalUrl.indexOf('?');
      res.redirect(302, `/console/${query === -1 ? '' : req.originalUrl.slice(query)}`);
      return;
    }
    next();
  });
  // Every other page path is the one page, which routes in the browser.
  router.get('/{*page}', serveConsolePage(deps.distDir));

  return { authorize: auth.authorize, loadSession: auth.loadSession, router };
}
