/**
 * A minimal EHR for token exchange tests, on a real loopback port: SMART discovery naming its
 * introspection endpoint, RFC 7662 introspection that insists on one way of authenticating
 * (client secret, signed assertion or bearer token), and `Patient/<id>` for the bearer of one
 * of its tokens. Tests decide what each token it "issued" says (active, exp, scope, patient).
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import express, { type Request, type Response } from 'express';
import { exportJWK, generateKeyPair, jwtVerify, type CryptoKey } from 'jose';

export type FakeEhrAuth = 'client_secret_basic' | 'private_key_jwt' | 'bearer';

/** What the EHR's introspection says of one of its tokens. */
export interface FakeEhrToken {
  /** @defaultValue true */
  readonly active?: boolean;
  /** Seconds since the epoch. @defaultValue an hour from now */
  readonly exp?: number;
  /** @defaultValue 'launch openid fhirUser patient/*.read' */
  readonly scope?: string;
  /** The launch patient's id at this EHR. */
  readonly patient?: string;
  /** @defaultValue 'care-timeline' */
  readonly clientId?: string;
  readonly fhirUser?: string;
}

export interface FakeEhr {
  /** The EHR's FHIR base (`<origin>/fhir`): its launches' `iss`. */
  readonly iss: string;
  readonly introspectionEndpoint: string;
  readonly auth: FakeEhrAuth;
  /** Calls by kind, counted as they arrive. */
  readonly calls: { discovery: number; introspection: number; patient: number; refusedAuth: number };
  /** A new opaque token that introspects as `t` says. */
  issue(t?: FakeEhrToken): string;
  /** Serves `resource` (a Patient with an `id`) at `Patient/<id>`. */
  addPatient(resource: Record<string, unknown>): void;
  /**
   * This EHR's entry for EHR_ISSUERS_FILE.
   * @param o - `discover`: leave `introspection_endpoint` out; `wrongSecret`: credentials the EHR refuses.
   */
  issuerEntry(o?: { discover?: boolean; wrongSecret?: boolean }): Record<string, unknown>;
  close(): Promise<void>;
}

const CLIENT_ID = 'care-engine';
const SECRET = 'fake-ehr-secret with spaces & symbols';
const RESOURCE_SERVER_TOKEN = 'fake-ehr-resource-server-token';
const ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';

interface Keys {
  readonly publicKey: CryptoKey;
  readonly keyFile: string;
  readonly wrongKeyFile: string;
}

async function writeKey(dir: string, name: string): Promise<{ publicKey: CryptoKey; file: string }> {
  const { privateKey, publicKey } = await generateKeyPair('ES384', { extractable: true });
  const file = join(dir, name);
  writeFileSync(file, JSON.stringify({ ...(await exportJWK(privateKey)), kid: name, alg: 'ES384' }));
  return { publicKey, file };
}

async function makeKeys(): Promise<Keys> {
  const dir = mkdtempSync(join(tmpdir(), 'fake-ehr-'));
  const good = await writeKey(dir, 'engine-key.json');
  const wrong = await writeKey(dir, 'stranger-key.json');
  return { publicKey: good.publicKey, keyFile: good.file, wrongKeyFile: wrong.file };
}

function basicCredentials(header: string): { id: string; secret: string } | undefined {
  if (!/^Basic /i.test(header)) return undefined;
  const decoded = Buffer.from(header.slice(6).trim(), 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) return undefined;
  const unescape = (s: string): string => decodeURIComponent(s.replace(/\+/g, ' '));
  return { id: unescape(decoded.slice(0, colon)), secret: unescape(decoded.slice(colon + 1)) };
}

/** Starts the EHR; `auth` is the one method its introspection endpoint accepts. */
export async function startFakeEhr(auth: FakeEhrAuth): Promise<FakeEhr> {
  const app = express();
  const server: Server = app.listen(0, '127.0.0.1');
  await new Promise<void>((resolve) => server.once('listening', resolve));
  const origin = `http://127.0.0.1:${String((server.address() as AddressInfo).port)}`;
  const iss = `${origin}/fhir`;
  const introspectionEndpoint = `${origin}/introspect`;
  const keys = await makeKeys();
  const tokens = new Map<string, FakeEhrToken>();
  const patients = new Map<string, Record<string, unknown>>();
  const usedJtis = new Set<string>();
  const calls = { discovery: 0, introspection: 0, patient: 0, refusedAuth: 0 };
  const nowSeconds = (): number => Math.floor(Date.now() / 1000);

  async function authenticated(req: Request): Promise<boolean> {
    const header = req.get('authorization') ?? '';
    const body = (req.body ?? {}) as Record<string, unknown>;
    if (auth === 'client_secret_basic') {
      const c = basicCredentials(header);
      return c?.id === CLIENT_ID && c.secret === SECRET;
    }
    if (auth === 'bearer') return header === `Bearer ${RESOURCE_SERVER_TOKEN}`;
    if (body['client_assertion_type'] !== ASSERTION_TYPE || typeof body['client_assertion'] !== 'string') {
      return false;
    }
    try {
      const { payload } = await jwtVerify(body['client_assertion'], keys.publicKey, {
        issuer: CLIENT_ID,
        subject: CLIENT_ID,
        audience: introspectionEndpoint,
        algorithms: ['ES384'],
        requiredClaims: ['exp', 'jti'],
      });
      const jti = String(payload.jti);
      if ((payload.exp ?? 0) - nowSeconds() > 300 || usedJtis.has(jti)) return false;
      usedJtis.add(jti);
      return true;
    } catch {
      return false;
    }
  }

  app.get('/fhir/.well-known/smart-configuration', (_req, res) => {
    calls.discovery++;
    res.json({
      issuer: iss,
      token_endpoint: `${origin}/token`,
      introspection_endpoint: introspectionEndpoint,
      capabilities: ['launch-ehr', 'context-ehr-patient'],
    });
  });

  app.post('/introspect', express.urlencoded({ extended: false }), (req: Request, res: Response) => {
    calls.introspection++;
    void authenticated(req).then((ok) => {
      if (!ok) {
        calls.refusedAuth++;
        res.status(401).json({ error: 'invalid_client' });
        return;
      }
      const token = (req.body as Record<string, unknown>)['token'];
      const t = typeof token === 'string' ? tokens.get(token) : undefined;
      if (t === undefined || t.active === false) {
        res.json({ active: false });
        return;
      }
      // As configured, even an exp in the past: a lax EHR the engine must not trust blindly.
      res.json({
        active: true,
        scope: t.scope ?? 'launch openid fhirUser patient/*.read',
        client_id: t.clientId ?? 'care-timeline',
        exp: t.exp ?? nowSeconds() + 3600,
        sub: 'practitioner-7',
        ...(t.fhirUser !== undefined ? { fhirUser: t.fhirUser } : {}),
        ...(t.patient !== undefined ? { patient: t.patient } : {}),
      });
    });
  });

  app.get('/fhir/Patient/:id', (req, res) => {
    calls.patient++;
    const bearer = /^Bearer (.+)$/.exec(req.get('authorization') ?? '')?.[1];
    const t = bearer === undefined ? undefined : tokens.get(bearer);
    const live = t !== undefined && t.active !== false && (t.exp ?? nowSeconds() + 1) > nowSeconds();
    if (!live) {
      res
        .status(401)
        .json({ resourceType: 'OperationOutcome', issue: [{ severity: 'error', code: 'login' }] });
      return;
    }
    const patient = patients.get(req.params.id);
    if (patient === undefined || t.patient !== req.params.id) {
      res
        .status(404)
        .json({ resourceType: 'OperationOutcome', issue: [{ severity: 'error', code: 'not-found' }] });
      return;
    }
    res.type('application/fhir+json').json(patient);
  });

  return {
    iss,
    introspectionEndpoint,
    auth,
    calls,
    issue(t = {}) {
      const token = `ehr-${randomUUID()}`;
      tokens.set(token, t);
      return token;
    },
    addPatient(resource) {
      patients.set(String(resource['id']), resource);
    },
    issuerEntry(o = {}) {
      const credentials =
        auth === 'client_secret_basic'
          ? { method: auth, client_id: CLIENT_ID, client_secret: o.wrongSecret === true ? 'wrong' : SECRET }
          : auth === 'bearer'
            ? { method: auth, token: o.wrongSecret === true ? 'wrong' : RESOURCE_SERVER_TOKEN }
            : {
                method: auth,
                client_id: CLIENT_ID,
                key_file: o.wrongSecret === true ? keys.wrongKeyFile : keys.keyFile,
              };
      return {
        iss,
        ...(o.discover === true ? {} : { introspection_endpoint: introspectionEndpoint }),
        introspection_auth: credentials,
      };
    },
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((err) => {
          if (err) reject(err);
          else resolve();
        });
      }),
  };
}
