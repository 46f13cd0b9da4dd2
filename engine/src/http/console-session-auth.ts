/**
 * Who is calling the /api routers and /console: a script with a bearer token, or an analyst's
 * browser with the `console_session` cookie. A session becomes an ordinary AccessContext
 * (`clientId: 'console'`, scopes by role), so the routers keep deciding with scopes. A cookie is
 * sent by the browser on its own, so every changing request it authenticates must also prove it
 * came from the console page: the session's CSRF token in `X-CSRF-Token`.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import cookieParser from 'cookie-parser';
import type { CookieOptions, NextFunction, Request, RequestHandler, Response } from 'express';
import { setAccessContext } from '../auth/access-context';
import { CONSOLE_CLIENT_ID, consoleSubject, scopesOf } from '../auth/console-roles';
import type { ConsoleSession, ConsoleSessionStore } from '../auth/console-sessions';
import type { ConsoleUserDirectory } from '../auth/console-users';
import { outcome, sendOutcome } from './operation-outcome';

/** The session cookie's name. */
export const CONSOLE_SESSION_COOKIE = 'console_session';

/** The header a changing request authenticated by the cookie must carry. */
export const CSRF_HEADER = 'X-CSRF-Token';

const SAFE_METHODS: ReadonlySet<string> = new Set(['GET', 'HEAD', 'OPTIONS']);

/** A request's console session, once `loadSession` (or `authorize`) looked it up. */
export interface ConsoleRequestSession {
  /** The cookie value (the session id). */
  readonly id: string;
  readonly session: ConsoleSession;
}

export interface ConsoleSessionAuthDeps {
  /** The bearer-token check (`deps.auth.authorize`) for requests with an Authorization header. */
  readonly bearer: RequestHandler;
  readonly sessions: ConsoleSessionStore;
  readonly users: ConsoleUserDirectory;
  /** PUBLIC_URL: the cookie is Secure under https, and same-origin requests are told by it. */
  readonly publicUrl: string;
}

export interface ConsoleSessionAuth {
  /** Admits a request to an /api router: bearer token, else session cookie plus CSRF header. */
  readonly authorize: RequestHandler;
  /** Mount at `/console`: looks up the session, if any, for the console routes and `requireConsoleSession`. */
  readonly loadSession: RequestHandler;
}

const LOCALS_KEY = 'consoleSession';
const LOCALS_SAME_ORIGIN = 'consoleSameOrigin';

/** The cookie attributes: HttpOnly, SameSite=Strict, Path=/, Secure when PUBLIC_URL is https. */
export function sessionCookieOptions(publicUrl: string): CookieOptions {
  return { httpOnly: true, sameSite: 'strict', path: '/', secure: publicUrl.startsWith('https:') };
}

/** The console session `loadSession` found for this request, if any. */
export function consoleSessionOf(res: Response): ConsoleRequestSession | undefined {
  const value: unknown = res.locals[LOCALS_KEY];
  return typeof value === 'object' && value !== null ? (value as ConsoleRequestSession) : undefined;
}

/** True when `X-CSRF-Token` equals the session's token; compared in constant time. */
export function csrfMatches(req: Request, session: ConsoleSession): boolean {
  const sent = req.get(CSRF_HEADER);
  if (sent === undefined || sent === '') return false;
  // Digests first: timingSafeEqual needs equal lengths, and the length must not leak either.
  const digest = (s: string): Buffer => createHash('sha256').update(s).digest();
  return timingSafeEqual(digest(sent), digest(session.csrfToken));
}

function grantAccess(res: Response, session: ConsoleSession): void {
  setAccessContext(res, {
    clientId: CONSOLE_CLIENT_ID,
    subject: consoleSubject(session.userName),
    scopes: scopesOf(session.role),
  });
}

const parseCookies = cookieParser();

/** One cookie of the request (cookie-parser, once per request). */
export function readCookie(req: Request, res: Response, name: string): Promise<string | undefined> {
  return new Promise((resolve, reject) => {
    parseCookies(req, res, (err?: unknown) => {
      if (err !== undefined) {
        reject(err instanceof Error ? err : new Error('cookie parsing failed', { cause: err }));
        return;
      }
      const cookies: unknown = req.cookies;
      const value =
        typeof cookies === 'object' && cookies !== null
          ? (cookies as Record<string, unknown>)[name]
          : undefined;
      resolve(typeof value === 'string' ? value : undefined);
    });
  });
}

/**
 * Builds the two middlewares over one session lookup. A password session lasts only while its
 * user is still in the users file with the same role: `npm run console-user -- remove` ends it.
 */
export function createConsoleSessionAuth(deps: ConsoleSessionAuthDeps): ConsoleSessionAuth {
  const publicOrigin = new URL(deps.publicUrl).origin;

  const resolve = async (req: Request, res: Response): Promise<ConsoleRequestSession | undefined> => {
    const already = consoleSessionOf(res);
    if (already !== undefined) return already;
    const id = await readCookie(req, res, CONSOLE_SESSION_COOKIE);
    if (id === undefined) return undefined;
    const session = await deps.sessions.find(id);
    if (session === undefined) return undefined;
    if (session.method === 'password') {
      const user = await deps.users.find(session.userName);
      if (user?.role !== session.role) {
        await deps.sessions.delete(id);
        return undefined;
      }
    }
    const found = { id, session };
    res.locals[LOCALS_KEY] = found;
    return found;
  };

  return {
    authorize: async (req: Request, res: Response, next: NextFunction): Promise<void> => {
      // A script's token decides alone: a stray cookie must neither widen nor narrow it.
      if (req.get('authorization') !== undefined) {
        await deps.bearer(req, res, next);
        return;
      }
      const found = await resolve(req, res);
      if (found === undefined) {
        res.set('WWW-Authenticate', 'Bearer');
        sendOutcome(res, outcome('login', 'a bearer token or a console session is required'));
        return;
      }
      if (!SAFE_METHODS.has(req.method) && !csrfMatches(req, found.session)) {
        sendOutcome(
          res,
          outcome('forbidden', `the ${CSRF_HEADER} header is missing or does not match the session`),
        );
        return;
      }
      grantAccess(res, found.session);
      next();
    },

    loadSession: async (req: Request, res: Response, next: NextFunction): Promise<void> => {
      await resolve(req, res);
      // Evidence the browser sent this from a console page (for pages that cannot add the
      // CSRF header, such as Bull Board's own client).
      const origin = req.get('origin');
      res.locals[LOCALS_SAME_ORIGIN] =
        origin !== undefined ? origin === publicOrigin : req.get('sec-fetch-site') === 'same-origin';
      next();
    },
  };
}

function wantsHtml(req: Request): boolean {
  return SAFE_METHODS.has(req.method) && req.accepts(['json', 'html']) === 'html';
}

/**
 * Admits console sessions alone, for pages under `/console` that are not the console's own
 * (Bull Board); mount after `loadSession`, then decide with scopes as for any caller:
 * `app.use('/console/queues', requireConsoleSession, requireScope('Queue', 'u'), board)`.
 * Without a session a page request is sent to the sign-in (`/console/`), anything else gets 401.
 * A changing request needs the CSRF header or, failing that, an `Origin` (or
 * `Sec-Fetch-Site: same-origin`) showing it came from this engine's own pages.
 */
export const requireConsoleSession: RequestHandler = (req, res, next) => {
  const found = consoleSessionOf(res);
  if (found === undefined) {
    if (wantsHtml(req)) {
      res.setHeader('Cache-Control', 'no-store');
      res.redirect(302, '/console/');
      return;
    }
    sendOutcome(res, outcome('login', 'sign in to the console first'));
    return;
  }
  if (
    !SAFE_METHODS.has(req.method) &&
    !csrfMatches(req, found.session) &&
    res.locals[LOCALS_SAME_ORIGIN] !== true
  ) {
    sendOutcome(res, outcome('forbidden', `a cross-site request: send the ${CSRF_HEADER} header`));
    return;
  }
  grantAccess(res, found.session);
  next();
};
