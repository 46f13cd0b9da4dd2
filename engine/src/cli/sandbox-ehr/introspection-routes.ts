/**
 * Token introspection (RFC 7662 with the SMART App Launch additions): how a resource server
 * such as the engine learns what an opaque EHR access token means (who, which patient, which
 * scopes, until when) before exchanging it for its own. Callers must authenticate; an unknown,
 * expired or revoked token is `{"active": false}` and nothing more.
 */
import express, { type Request, type Response, type Router } from 'express';
import type { IntrospectionClientAuth } from './introspection-client-auth';
import { readParams, type SandboxContext } from './sandbox-context';

/** What an active token's introspection says. */
export interface IntrospectionResponse {
  readonly active: true;
  readonly scope: string;
  readonly client_id: string;
  readonly exp: number;
  readonly iat: number;
  readonly iss: string;
  readonly sub: string;
  /** Absolute URL of the user's resource. */
  readonly fhirUser: string;
  readonly token_type: 'Bearer';
  readonly patient?: string;
}

function noStore(res: Response): Response {
  return res.set({ 'cache-control': 'no-store', pragma: 'no-cache' });
}

async function introspect(
  ctx: SandboxContext,
  auth: IntrospectionClientAuth,
  req: Request,
  res: Response,
): Promise<void> {
  const body = (req.body ?? {}) as Record<string, unknown>;
  const result = await auth.authenticate({ authorization: req.headers.authorization, body });
  if (!result.ok) {
    if (result.status === 401) {
      res.set('www-authenticate', 'Basic realm="sandbox-ehr", Bearer realm="sandbox-ehr"');
    }
    noStore(res).status(result.status).json({ error: result.error, error_description: result.description });
    return;
  }
  const { values, repeated } = readParams(body, ['token']);
  const token = values['token'];
  if (repeated.length > 0 || token === undefined || token === '') {
    noStore(res).status(400).json({ error: 'invalid_request', error_description: 'send exactly one token' });
    return;
  }
  const record = ctx.store.activeAccessToken(token);
  if (record === undefined) {
    noStore(res).json({ active: false });
    return;
  }
  const { grant } = record;
  const answer: IntrospectionResponse = {
    active: true,
    scope: grant.scopes.join(' '),
    client_id: grant.clientId,
    exp: Math.floor(record.expiresAt / 1000),
    iat: Math.floor(record.issuedAt / 1000),
    iss: ctx.urls.iss,
    sub: grant.practitioner,
    fhirUser: `${ctx.urls.iss}/Practitioner/${grant.practitioner}`,
    token_type: 'Bearer',
    ...(grant.patient !== undefined ? { patient: grant.patient } : {}),
  };
  noStore(res).json(answer);
}

/**
 * The `/introspect` route.
 * @param ctx - the sandbox's shared state.
 * @param auth - the registered introspection clients.
 */
export function createIntrospectionRouter(ctx: SandboxContext, auth: IntrospectionClientAuth): Router {
  const router = express.Router();
  router.post('/introspect', express.urlencoded({ extended: false, limit: '16kb' }), (req, res, next) => {
    introspect(ctx, auth, req, res).catch(next);
  });
  return router;
}
