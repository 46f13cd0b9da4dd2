/**
 * Bearer-token and scope checks for every protected route, so handlers start from a verified
 * AccessContext and never parse Authorization headers themselves.
 */
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { outcome, sendOutcome } from '../http/operation-outcome';
import {
  allowsResource,
  getAccessContext,
  setAccessContext,
  type AccessContext,
  type Interaction,
} from './access-context';
import { TokenError } from './token-error';
import type { TokenService } from './token-service';

const BEARER = /^Bearer[ \t]+([A-Za-z0-9\-._~+/]+=*)[ \t]*$/i;

function sendUnauthorized(res: Response, diagnostics: string, invalidToken: boolean): void {
  // RFC 6750 section 3.1: no error code when the request simply carried no token.
  res.set(
    'WWW-Authenticate',
    invalidToken
      ? `Bearer error="invalid_token", error_description="${diagnostics.replace(/["\\]/g, "'")}"`
      : 'Bearer',
  );
  sendOutcome(res, outcome('login', diagnostics));
}

/**
 * Middleware that admits only requests with a valid bearer token and stores the caller's
 * AccessContext for `getAccessContext`. Answers 401 with an OperationOutcome (code `login`) otherwise.
 * @param tokenService - verifies the engine's access tokens.
 */
export function requireAuth(tokenService: TokenService): RequestHandler {
  return async (req: Request, res: Response, next: NextFunction): Promise<void> => {
    const header = req.get('authorization');
    if (header === undefined || header.trim() === '') {
      sendUnauthorized(res, 'a bearer token is required', false);
      return;
    }
    const token = BEARER.exec(header)?.[1];
    if (token === undefined) {
      sendUnauthorized(res, "the Authorization header must be 'Bearer <token>'", true);
      return;
    }
    let ctx: AccessContext;
    try {
      ctx = await tokenService.verify(token);
    } catch (err) {
      if (err instanceof TokenError) {
        sendUnauthorized(res, err.message, true);
        return;
      }
      throw err;
    }
    setAccessContext(res, ctx);
    next();
  };
}

/**
 * Middleware that answers 403 (OperationOutcome code `forbidden`) unless the token's scopes
 * allow `interaction` on `resourceType`. Mount after `requireAuth`.
 * @param resourceType - FHIR type, or a pseudo-type such as `Message` for the admin API.
 * @param interaction - SMART v2 letter: c, r, u, d or s.
 */
export function requireScope(resourceType: string, interaction: Interaction): RequestHandler {
  return (_req: Request, res: Response, next: NextFunction): void => {
    if (!allowsResource(getAccessContext(res), resourceType, interaction)) {
      sendOutcome(
        res,
        outcome('forbidden', `the token's scopes do not allow '${interaction}' on ${resourceType}`),
      );
      return;
    }
    next();
  };
}
