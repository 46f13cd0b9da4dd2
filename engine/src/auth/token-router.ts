/**
 * The SMART Backend Services token endpoint (`POST /auth/token`): a client trades a signed
 * assertion for a short-lived bearer token. Errors are RFC 6749 JSON, not OperationOutcome.
 */
import express, { type NextFunction, type Request, type Response, type Router } from 'express';
import { AuthError } from './auth-error';
import { CLIENT_ASSERTION_TYPE, verifyClientAssertion } from './client-assertion';
import type { JtiStore } from './jti-store';
import { grantScopes, splitScopes } from './scope-grant';
import { tokenEndpointFor } from './smart-configuration';
import type { SmartClientRegistry } from './smart-clients';
import type { TokenService } from './token-service';

export interface TokenRouterDeps {
  /** `config.http.publicUrl`; assertions must use `${publicUrl}/auth/token` as aud. */
  readonly publicUrl: string;
  readonly clients: SmartClientRegistry;
  readonly jtiStore: JtiStore;
  readonly tokenService: TokenService;
  /**
   * Clock skew allowed on assertions, and so on how long a used jti is kept.
   * @defaultValue DEFAULT_CLOCK_TOLERANCE_SECONDS (client-assertion.ts)
   */
  readonly clockToleranceSeconds?: number;
  /** @defaultValue Date.now */
  readonly now?: () => number;
}

/** Token requests are a few hundred bytes; anything far larger is not one. */
const BODY_LIMIT = '16kb';

function formParam(body: Record<string, unknown>, name: string): string | undefined {
  const value = body[name];
  if (value === undefined) return undefined;
  // RFC 6749 section 3.2: request parameters must not be included more than once.
  if (typeof value !== 'string') throw new AuthError('invalid_request', `${name} must be sent exactly once`);
  return value;
}

function requireParam(body: Record<string, unknown>, name: string): string {
  const value = formParam(body, name);
  if (value === undefined || value === '') throw new AuthError('invalid_request', `${name} is required`);
  return value;
}

function readForm(req: Request): Record<string, unknown> {
  const body: unknown = req.body;
  if (!req.is('application/x-www-form-urlencoded') || body === null || typeof body !== 'object') {
    throw new AuthError('invalid_request', 'the body must be application/x-www-form-urlencoded');
  }
  return body as Record<string, unknown>;
}

function sendAuthError(res: Response, err: AuthError): void {
  res.status(err.status).json({ error: err.code, error_description: err.message });
}

/**
 * Builds the router; mount it at `/auth` (it serves `POST /token`) before any bearer-token check.
 * @param deps - client registry, replay store, token service and the public URL.
 */
export function createTokenRouter(deps: TokenRouterDeps): Router {
  const router = express.Router();
  const tokenEndpoint = tokenEndpointFor(deps.publicUrl);

  router.post(
    '/token',
    express.urlencoded({ extended: false, limit: BODY_LIMIT }),
    async (req: Request, res: Response, next: NextFunction): Promise<void> => {
      res.set({ 'Cache-Control': 'no-store', Pragma: 'no-cache' });
      try {
        const form = readForm(req);
        const grantType = requireParam(form, 'grant_type');
        if (grantType !== 'client_credentials') {
          throw new AuthError('unsupported_grant_type', 'grant_type must be client_credentials');
        }
        if (requireParam(form, 'client_assertion_type') !== CLIENT_ASSERTION_TYPE) {
          throw new AuthError('invalid_request', `client_assertion_type must be ${CLIENT_ASSERTION_TYPE}`);
        }
        const assertion = requireParam(form, 'client_assertion');
        const requested = splitScopes(requireParam(form, 'scope'));
        const declaredClientId = formParam(form, 'client_id');

        const { client } = await verifyClientAssertion(assertion, {
          clients: deps.clients,
          jtiStore: deps.jtiStore,
          tokenEndpoint,
          ...(deps.clockToleranceSeconds !== undefined
            ? { clockToleranceSeconds: deps.clockToleranceSeconds }
            : {}),
          ...(deps.now !== undefined ? { now: deps.now } : {}),
        });
        if (declaredClientId !== undefined && declaredClientId !== client.clientId) {
          throw new AuthError('invalid_client', 'client_id does not match the client_assertion issuer');
        }
        const scopes = grantScopes(requested, client.scopes);
        if (scopes.length === 0) {
          throw new AuthError('invalid_scope', 'none of the requested scopes is registered for this client');
        }
        res.json(await deps.tokenService.issue({ clientId: client.clientId, scopes }));
      } catch (err) {
        if (err instanceof AuthError) sendAuthError(res, err);
        else next(err);
      }
    },
  );

  // Body-parser failures (too large, bad encoding) are the client's fault: answer in OAuth terms.
  router.use((err: unknown, _req: Request, res: Response, next: NextFunction): void => {
    const status = typeof err === 'object' && err !== null && 'status' in err ? err.status : undefined;
    if (typeof status === 'number' && status >= 400 && status < 500) {
      res.set({ 'Cache-Control': 'no-store', Pragma: 'no-cache' });
      sendAuthError(res, new AuthError('invalid_request', 'the request body could not be read'));
      return;
    }
    next(err);
  });

  return router;
}
