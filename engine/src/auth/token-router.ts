/**
 * The token endpoint (`POST /auth/token`): a SMART Backend Services client trades a signed
 * assertion for a short-lived bearer token, and the SMART app trades an EHR access token for
 * one of the engine's (RFC 8693, ehr-token-exchange.ts). Errors are RFC 6749 JSON, not
 * OperationOutcome: OAuth clients read `error`.
 */
import express, { type NextFunction, type Request, type Response, type Router } from 'express';
import { AuthError } from './auth-error';
import { CLIENT_ASSERTION_TYPE, verifyClientAssertion } from './client-assertion';
import { TOKEN_EXCHANGE_GRANT_TYPE, type TokenExchanger } from './ehr-token-exchange';
import type { JtiStore } from './jti-store';
import { grantScopes, splitScopes } from './scope-grant';
import { tokenEndpointFor } from './smart-configuration';
import type { SmartClientRegistry } from './smart-clients';
import { TokenExchangeError } from './token-exchange-error';
import { formParam, readForm, requireParam } from './token-form';
import type { TokenService } from './token-service';

export interface TokenRouterDeps {
  /** `config.http.publicUrl`; assertions must use `${publicUrl}/auth/token` as aud. */
  readonly publicUrl: string;
  readonly clients: SmartClientRegistry;
  readonly jtiStore: JtiStore;
  readonly tokenService: TokenService;
  /** Serves `grant_type=urn:ietf:params:oauth:grant-type:token-exchange`; unset: refused. */
  readonly exchange?: TokenExchanger;
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
        if (grantType === TOKEN_EXCHANGE_GRANT_TYPE && deps.exchange !== undefined) {
          res.json(await deps.exchange.exchange(form));
          return;
        }
        if (grantType !== 'client_credentials') {
          throw new AuthError(
            'unsupported_grant_type',
            `grant_type must be client_credentials${deps.exchange !== undefined ? ` or ${TOKEN_EXCHANGE_GRANT_TYPE}` : ''}`,
          );
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
        else if (err instanceof TokenExchangeError) res.status(err.status).json(err.toBody());
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
