/**
 * `/console/auth/oidc/login` and `/callback`: the browser's round trip through the OpenID Connect
 * provider. The pending sign-in is named by a cookie of its own, SameSite=Lax because the
 * provider's redirect back is a cross-site navigation (a Strict cookie would not come back with
 * it); the session cookie set at the end is Strict as always. Failures are pages, since a person
 * is looking at them, with the reason and a way back.
 */
import express, { type Request, type Response, type Router } from 'express';
import type { AuditEvent } from '../auth/audit-log';
import { OIDC_LOGIN_TTL_MS, type ConsoleOidc, type ConsoleOidcError } from '../auth/console-oidc';
import type { ConsoleSessionStore } from '../auth/console-sessions';
import { errorGuard } from '../errors/coded-error';
import { describeError } from '../observability/describe-error';
import type { Logger } from '../observability/logger';
import { consoleAuditEvent, startConsoleSession } from './console-auth-routes';
import { setConsoleSecurityHeaders } from './console-page';
import { readCookie, sessionCookieOptions } from './console-session-auth';
import { outcome, sendOutcome } from './operation-outcome';

/** The pending sign-in's cookie. */
export const OIDC_LOGIN_COOKIE = 'console_oidc';

/** Where the cookie is sent: only to the callback (and the login that sets it). */
const OIDC_COOKIE_PATH = '/console/auth/oidc';

export interface ConsoleOidcRouteDeps {
  readonly oidc: ConsoleOidc | undefined;
  readonly sessions: ConsoleSessionStore;
  readonly publicUrl: string;
  /** `${PUBLIC_URL}/console/auth/oidc/callback`, as registered at the provider. */
  readonly redirectUri: string;
  readonly audit: (event: AuditEvent) => Promise<void>;
  readonly logger: Logger;
}

const isOidcError = errorGuard<ConsoleOidcError>('ConsoleOidcError');

const STATUS_BY_CODE: Record<ConsoleOidcError['code'], number> = {
  'oidc-unavailable': 503,
  'oidc-login-unknown': 400,
  'oidc-refused': 400,
  'oidc-no-role': 403,
  'oidc-config': 500,
};

const FHIR_CODE_BY_STATUS: Record<number, string> = { 400: 'invalid', 403: 'forbidden', 503: 'transient' };

function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** A failure a person sees: a small page with the reason, or an OperationOutcome for a script. */
function sendFailure(req: Request, res: Response, status: number, message: string): void {
  res.setHeader('Cache-Control', 'no-store');
  if (req.accepts(['json', 'html']) !== 'html') {
    sendOutcome(res, outcome(FHIR_CODE_BY_STATUS[status] ?? 'exception', message), status);
    return;
  }
  setConsoleSecurityHeaders(res);
  res
    .status(status)
    .type('html')
    .send(
      `<!doctype html><html lang="en"><meta charset="utf-8"><title>Console sign-in failed</title>` +
        `<h1>Console sign-in failed</h1><p>${escapeHtml(message)}</p>` +
        `<p><a href="/console/">Back to the console sign-in</a></p></html>`,
    );
}

/** Routes mounted at `/console/auth/oidc`, after `loadSession`. */
export function createConsoleOidcRouter(deps: ConsoleOidcRouteDeps): Router {
  const router = express.Router();
  const cookie = {
    ...sessionCookieOptions(deps.publicUrl),
    sameSite: 'lax' as const,
    path: OIDC_COOKIE_PATH,
  };

  router.use((req, res, next) => {
    if (deps.oidc !== undefined) {
      next();
      return;
    }
    sendFailure(req, res, 404, 'OpenID Connect sign-in is not enabled (CONSOLE_OIDC_ISSUER is unset)');
  });

  router.get('/login', async (req, res) => {
    const oidc = deps.oidc;
    if (oidc === undefined) return;
    try {
      const { redirectTo, loginId } = await oidc.begin();
      res.cookie(OIDC_LOGIN_COOKIE, loginId, { ...cookie, maxAge: OIDC_LOGIN_TTL_MS });
      res.setHeader('Cache-Control', 'no-store');
      res.redirect(302, redirectTo.href);
    } catch (err) {
      if (!isOidcError(err)) throw err;
      deps.logger.error({ err: describeError(err) }, 'console OIDC sign-in could not start');
      sendFailure(
        req,
        res,
        STATUS_BY_CODE[err.code],
        'the sign-in provider cannot be reached: try again shortly',
      );
    }
  });

  router.get('/callback', async (req, res) => {
    const oidc = deps.oidc;
    if (oidc === undefined) return;
    const loginId = await readCookie(req, res, OIDC_LOGIN_COOKIE);
    res.clearCookie(OIDC_LOGIN_COOKIE, cookie);
    // The URL the provider redirected to, as registered: PUBLIC_URL's, not the Host header's.
    const callbackUrl = new URL(deps.redirectUri);
    callbackUrl.search = new URL(req.originalUrl, 'http://callback.invalid').search;
    try {
      const user = await oidc.finish(loginId, callbackUrl);
      await startConsoleSession(deps, res, { ...user, method: 'oidc' });
      await deps.audit(consoleAuditEvent('login', 'success', user.userName, { method: 'oidc' }));
      res.setHeader('Cache-Control', 'no-store');
      res.redirect(302, '/console/');
    } catch (err) {
      if (!isOidcError(err)) throw err;
      const status = STATUS_BY_CODE[err.code];
      if (err.code === 'oidc-unavailable' || err.code === 'oidc-config') {
        deps.logger.error({ err: describeError(err) }, 'console OIDC sign-in failed at the provider');
      } else {
        await deps.audit(
          consoleAuditEvent('login', 'denied', err.userName, { method: 'oidc', reason: err.code }),
        );
      }
      sendFailure(
        req,
        res,
        status,
        status === 503 ? 'the sign-in provider cannot be reached: try again shortly' : err.message,
      );
    }
  });

  return router;
}
