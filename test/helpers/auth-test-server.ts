/**
 * A real express app on a loopback port with the auth stack mounted the way the engine mounts
 * it, plus two registered clients (ES384 and RS384) whose assertions tests can bend one claim at a time.
 */
import { randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey } from 'jose';
import { recordAudit } from '../../engine/src/auth/audit-log';
import { createJtiStore } from '../../engine/src/auth/jti-store';
import { getAccessContext } from '../../engine/src/auth/access-context';
import { requireAuth, requireScope } from '../../engine/src/auth/require-auth';
import { buildSmartConfiguration, tokenEndpointFor } from '../../engine/src/auth/smart-configuration';
import {
  createSmartClientRegistry,
  parseSmartClients,
  type SmartClientRegistry,
} from '../../engine/src/auth/smart-clients';
import { createTokenRouter } from '../../engine/src/auth/token-router';
import {
  createTokenService,
  type TokenKeyPair,
  type TokenService,
} from '../../engine/src/auth/token-service';
import type { Db } from '../../engine/src/store/db';

export const ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';

/** Each option breaks one part of an otherwise valid assertion. */
export interface AssertionOptions {
  readonly alg?: 'ES384' | 'RS384';
  readonly key?: CryptoKey;
  readonly kid?: string;
  readonly iss?: string;
  readonly sub?: string;
  readonly aud?: string;
  /** Seconds from now; negative for an expired assertion. @defaultValue 240 */
  readonly expIn?: number;
  readonly jti?: string;
}

export interface HttpResult {
  readonly status: number;
  readonly headers: Headers;
  readonly body: Record<string, unknown>;
}

export interface AuthTestServer {
  readonly publicUrl: string;
  readonly tokenEndpoint: string;
  /** `es-client` (ES384; Patient and Observation `.rs`) and `rs-client` (RS384; `system/*.rs`). */
  readonly registry: SmartClientRegistry;
  readonly engineKeys: TokenKeyPair;
  readonly tokenService: TokenService;
  /** A private key no client registered. */
  readonly strangerKey: CryptoKey;
  /** The RS384 client's private key. */
  readonly rsKey: CryptoKey;
  /** A signed assertion, for `es-client` unless `alg` is RS384. */
  assertion(o?: AssertionOptions): Promise<string>;
  postToken(form: Record<string, string>): Promise<HttpResult>;
  /** A well-formed client_credentials request carrying `clientAssertion`. */
  requestToken(clientAssertion: string, scope?: string): Promise<HttpResult>;
  get(path: string, token?: string): Promise<HttpResult>;
  close(): Promise<void>;
}

async function toResult(res: Response): Promise<HttpResult> {
  return { status: res.status, headers: res.headers, body: (await res.json()) as Record<string, unknown> };
}

async function registerClients(es: CryptoKey, rs: CryptoKey): Promise<SmartClientRegistry> {
  const clients = [
    {
      client_id: 'es-client',
      jwks: { keys: [{ ...(await exportJWK(es)), kid: 'es-1' }] },
      scope: 'system/Patient.rs system/Observation.rs',
    },
    {
      client_id: 'rs-client',
      jwks: { keys: [{ ...(await exportJWK(rs)), kid: 'rs-1' }] },
      scope: 'system/*.rs',
    },
  ];
  return createSmartClientRegistry(parseSmartClients(clients, 'in-memory test clients'));
}

/** Protected test routes: Patient read and Observation search audit themselves; Encounter does not. */
function mountRoutes(app: express.Express, db: Db, publicUrl: string, tokenService: TokenService): void {
  app.get('/fhir/.well-known/smart-configuration', (_req, res) => {
    res.json(buildSmartConfiguration(publicUrl));
  });
  app.use('/fhir', requireAuth(tokenService));
  app.get('/fhir/Patient/:id', requireScope('Patient', 'r'), async (req, res) => {
    const ctx = getAccessContext(res);
    const id = String(req.params['id']);
    await recordAudit(db, {
      clientId: ctx.clientId,
      action: 'read',
      resourceType: 'Patient',
      resourceId: id,
      patientId: id,
      outcome: 'success',
    });
    res.json({ resourceType: 'Patient', id });
  });
  app.get('/fhir/Observation', requireScope('Observation', 's'), async (req, res) => {
    const ctx = getAccessContext(res);
    const query = req.originalUrl.slice(req.originalUrl.indexOf('?'));
    await recordAudit(db, {
      clientId: ctx.clientId,
      action: 'search',
      resourceType: 'Observation',
      query,
      outcome: 'success',
    });
    res.json({ resourceType: 'Bundle', type: 'searchset', entry: [] });
  });
  app.get('/fhir/Encounter/:id', requireScope('Encounter', 'r'), (_req, res) => {
    res.json({ resourceType: 'Encounter' });
  });
}

/**
 * Listens on 127.0.0.1:0 and mounts the token router and protected routes.
 * @param db - a migrated test database (replay store and audit rows go there).
 */
export async function startAuthTestServer(db: Db): Promise<AuthTestServer> {
  const es = await generateKeyPair('ES384', { extractable: true });
  const rs = await generateKeyPair('RS384', { extractable: true });
  const strangerKey = (await generateKeyPair('ES384')).privateKey;
  const registry = await registerClients(es.publicKey, rs.publicKey);
  const engineKeys = await generateKeyPair('ES256');

  const app = express();
  const server = app.listen(0, '127.0.0.1');
  await new Promise<void>((resolve) => server.once('listening', resolve));
  const publicUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const tokenEndpoint = tokenEndpointFor(publicUrl);
  const tokenService = await createTokenService({ issuer: publicUrl, keyPair: engineKeys });
  app.use(
    '/auth',
    createTokenRouter({ publicUrl, clients: registry, jtiStore: createJtiStore(db), tokenService }),
  );
  mountRoutes(app, db, publicUrl, tokenService);

  const postToken = async (form: Record<string, string>): Promise<HttpResult> =>
    toResult(await fetch(tokenEndpoint, { method: 'POST', body: new URLSearchParams(form) }));

  return {
    publicUrl,
    tokenEndpoint,
    registry,
    engineKeys,
    tokenService,
    strangerKey,
    rsKey: rs.privateKey,
    async assertion(o = {}) {
      const alg = o.alg ?? 'ES384';
      const iss = o.iss ?? (alg === 'ES384' ? 'es-client' : 'rs-client');
      return new SignJWT({})
        .setProtectedHeader({ alg, kid: o.kid ?? (alg === 'ES384' ? 'es-1' : 'rs-1'), typ: 'JWT' })
        .setIssuer(iss)
        .setSubject(o.sub ?? iss)
        .setAudience(o.aud ?? tokenEndpoint)
        .setExpirationTime(Math.floor(Date.now() / 1000) + (o.expIn ?? 240))
        .setJti(o.jti ?? randomUUID())
        .sign(o.key ?? (alg === 'ES384' ? es.privateKey : rs.privateKey));
    },
    postToken,
    requestToken: (clientAssertion, scope = 'system/Patient.rs') =>
      postToken({
        grant_type: 'client_credentials',
        client_assertion_type: ASSERTION_TYPE,
        client_assertion: clientAssertion,
        scope,
      }),
    get: async (path, token) =>
      toResult(
        await fetch(`${publicUrl}${path}`, {
          headers: token === undefined ? {} : { authorization: `Bearer ${token}` },
        }),
      ),
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((err) => {
          if (err) reject(err);
          else resolve();
        });
      }),
  };
}
