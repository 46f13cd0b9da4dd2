/**
 * `/console/auth/session`, `/login` and `/logout`: password sign-in against the users file,
 * rate-limited per user name and address, and audited whatever the outcome. A wrong password and
 * an unknown user get the same answer in about the same time, so the answer does not say which
 * names exist.
 */
import express, { type Request, type Response, type Router } from 'express';
import { z } from 'zod';
import type { AuditEvent } from '../auth/audit-log';
import { MAX_PASSWORD_LENGTH, UNKNOWN_USER_HASH, verifyPassword } from '../auth/console-password';
import { CONSOLE_CLIENT_ID, consoleSubject, type ConsoleRole } from '../auth/console-roles';
import type {
  ConsoleLoginLimiter,
  LoginAttempt,
  LoginLimiterUnavailableError,
} from '../auth/console-login-limiter';
import type { ConsoleSession, ConsoleSessionStore, ConsoleSignInMethod } from '../auth/console-sessions';
import { errorGuard } from '../errors/coded-error';
import type { ConsoleUserDirectory, ConsoleUsersError } from '../auth/console-users';
import { describeError } from '../observability/describe-error';
import type { Logger } from '../observability/logger';
import {
  consoleSessionOf,
  csrfMatches,
  CONSOLE_SESSION_COOKIE,
  CSRF_HEADER,
  sessionCookieOptions,
} from './console-session-auth';
import { outcome, sendOutcome } from './operation-outcome';
import { parseParams, safeText } from './request-params';

export interface ConsoleAuthRouteDeps {
  readonly sessions: ConsoleSessionStore;
  readonly users: ConsoleUserDirectory;
  readonly limiter: ConsoleLoginLimiter;
  /** Whether OIDC sign-in is configured (the session answer lists the methods). */
  readonly oidcEnabled: boolean;
  readonly publicUrl: string;
  readonly audit: (event: AuditEvent) => Promise<void>;
  readonly logger: Logger;
}

const loginBody = z.strictObject({
  username: safeText(128),
  password: z.string().min(1, 'must not be empty').max(MAX_PASSWORD_LENGTH),
});

const isLimiterDown = errorGuard<LoginLimiterUnavailableError>('LoginLimiterUnavailableError');
const isUsersInvalid = errorGuard<ConsoleUsersError>('ConsoleUsersError');

/** The same for a wrong password and an unknown user. */
const BAD_LOGIN = 'user name or password is wrong';

/** The signed-in answer of `/session` and `/login`. */
export function signedInBody(session: ConsoleSession): Record<string, unknown> {
  return {
    signedIn: true,
    user: { name: session.userName, role: session.role },
    csrfToken: session.csrfToken,
    expiresAt: session.expiresAt.toISOString(),
  };
}

/** One audit row of a sign-in or sign-out; never the password, and no subject for an unknown name. */
export function consoleAuditEvent(
  action: 'login' | 'logout',
  result: 'success' | 'denied',
  userName: string | undefined,
  detail: Readonly<Record<string, string | number | boolean>>,
): AuditEvent {
  return {
    clientId: CONSOLE_CLIENT_ID,
    ...(userName !== undefined ? { subject: consoleSubject(userName) } : {}),
    action,
    resourceType: 'ConsoleSession',
    outcome: result,
    detail,
  };
}

/**
 * Starts a session for a user who just proved who they are: any session the browser already
 * had is ended first (no session fixation), and the cookie is set.
 */
export async function startConsoleSession(
  deps: Pick<ConsoleAuthRouteDeps, 'sessions' | 'publicUrl'>,
  res: Response,
  user: { readonly userName: string; readonly role: ConsoleRole; readonly method: ConsoleSignInMethod },
): Promise<ConsoleSession> {
  const prior = consoleSessionOf(res);
  if (prior !== undefined) await deps.sessions.delete(prior.id);
  const { id, session } = await deps.sessions.create(user);
  res.cookie(CONSOLE_SESSION_COOKIE, id, {
    ...sessionCookieOptions(deps.publicUrl),
    maxAge: session.expiresAt.getTime() - Date.now(),
  });
  return session;
}

/** Routes mounted at `/console/auth`, after `loadSession`. */
export function createConsoleAuthRouter(deps: ConsoleAuthRouteDeps): Router {
  const router = express.Router();
  const methods = { password: deps.users.configured, oidc: deps.oidcEnabled };

  router.use((_req, res, next) => {
    // Sign-in answers carry the CSRF token: no cache may keep them.
    res.setHeader('Cache-Control', 'no-store');
    next();
  });

  router.get('/session', (_req, res) => {
    const found = consoleSessionOf(res);
    res.json(
      found === undefined ? { signedIn: false, methods } : { ...signedInBody(found.session), methods },
    );
  });

  router.post(
    '/login',
    (req, res, next) => {
      // JSON only: a cross-site HTML form can post urlencoded or text/plain, never JSON.
      if (req.is('application/json') !== 'application/json') {
        sendOutcome(res, outcome('not-supported', 'send the sign-in as Content-Type: application/json'), 415);
        return;
      }
      next();
    },
    express.json({ limit: '8kb' }),
    async (req, res) => {
      if (!deps.users.configured) {
        sendOutcome(
          res,
          outcome('not-supported', 'password sign-in is not enabled (CONSOLE_USERS_FILE is unset)'),
          404,
        );
        return;
      }
      const body = parseParams(res, loginBody, req.body);
      if (body === undefined) return;
      try {
        await login(deps, req, res, body);
      } catch (err) {
        if (!isLimiterDown(err) && !isUsersInvalid(err)) throw err;
        deps.logger.error({ err: describeError(err) }, 'console sign-in unavailable');
        sendOutcome(res, outcome('transient', 'sign-in is unavailable for now, try again shortly'));
      }
    },
  );

  router.post('/logout', async (req, res) => {
    const found = consoleSessionOf(res);
    if (found !== undefined) {
      if (!csrfMatches(req, found.session)) {
        sendOutcome(
          res,
          outcome('forbidden', `the ${CSRF_HEADER} header is missing or does not match the session`),
        );
        return;
      }
      await deps.sessions.delete(found.id);
      await deps.audit(
        consoleAuditEvent('logout', 'success', found.session.userName, { method: found.session.method }),
      );
    }
    res.clearCookie(CONSOLE_SESSION_COOKIE, sessionCookieOptions(deps.publicUrl));
    res.status(204).end();
  });

  return router;
}

async function login(
  deps: ConsoleAuthRouteDeps,
  req: Request,
  res: Response,
  body: z.infer<typeof loginBody>,
): Promise<void> {
  const attempt: LoginAttempt = {
    userName: body.username,
    address: req.ip ?? req.socket.remoteAddress ?? 'unknown',
  };
  const user = await deps.users.find(body.username);
  const detail = { method: 'password', address: attempt.address };
  const admission = await deps.limiter.admit(attempt);
  if (!admission.admitted) {
    await deps.audit(consoleAuditEvent('login', 'denied', user?.name, { ...detail, reason: 'rate-limited' }));
    deps.logger.warn({ retryAfterS: admission.retryAfterS }, 'console sign-in refused: too many failures');
    res.setHeader('Retry-After', String(admission.retryAfterS));
    sendOutcome(res, outcome('throttled', 'too many failed sign-ins: try again later'), 429);
    return;
  }
  // An unknown name costs one verification too, so timing does not tell names apart.
  const ok = await verifyPassword(body.password, user?.passwordHash ?? UNKNOWN_USER_HASH);
  if (user === undefined || !ok) {
    await deps.audit(
      consoleAuditEvent('login', 'denied', user?.name, {
        ...detail,
        reason: user === undefined ? 'unknown-user' : 'wrong-password',
      }),
    );
    sendOutcome(res, outcome('login', BAD_LOGIN));
    return;
  }
  await deps.limiter.succeeded(attempt);
  const session = await startConsoleSession(deps, res, {
    userName: user.name,
    role: user.role,
    method: 'password',
  });
  await deps.audit(consoleAuditEvent('login', 'success', user.name, detail));
  res.json(signedInBody(session));
}
