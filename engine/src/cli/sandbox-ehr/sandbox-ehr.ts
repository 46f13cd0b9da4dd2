/**
 * A small EHR for the demo and the tests, following SMART App Launch 2.x: it launches the care
 * timeline from a patient's chart, signs the practitioner in (always, no password), issues
 * opaque tokens to the app with PKCE, lets the engine introspect them, and serves the Patient
 * and Practitioner they are about. It is the "outside the system" the engine trusts through
 * EHR_ISSUERS_FILE, on a real loopback port, so nothing in the engine is mocked.
 */
import type { ErrorRequestHandler } from 'express';
import express from 'express';
import cors from 'cors';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { createAuthorizeRouter } from './authorize-routes';
import type { DemoPatient, DemoPractitioner } from './demo-patients';
import { createFhirRouter } from './fhir-routes';
import { createIdTokenSigner } from './id-token-signer';
import { IntrospectionClientAuth, type IntrospectionClient } from './introspection-client-auth';
import { createIntrospectionRouter } from './introspection-routes';
import { createLauncherRouter } from './launcher-routes';
import type { SandboxContext } from './sandbox-context';
import { sandboxUrls, SMART_STYLE, type SandboxUrls } from './sandbox-discovery';
import { grantScopes } from './sandbox-scopes';
import { SandboxStore } from './sandbox-store';
import { createTokenRouter } from './token-routes';

export interface SandboxEhrOptions {
  /** 0 picks a free port. */
  readonly port: number;
  /** @defaultValue `127.0.0.1` */
  readonly host?: string;
  /** The app's EHR-launch page, e.g. `http://127.0.0.1:8080/app/launch.html`. */
  readonly appLaunchUrl: string;
  /** The app's redirect URIs, matched exactly. */
  readonly appRedirectUris: readonly string[];
  /** The app's client id (`SMART_APP_CLIENT_ID`). */
  readonly clientId: string;
  readonly patients: readonly DemoPatient[];
  /** The signed-in user. */
  readonly practitioner: DemoPractitioner;
  /** Resource servers that may introspect tokens. */
  readonly introspectionClients: readonly IntrospectionClient[];
  /** @defaultValue 3600 */
  readonly accessTokenLifetimeSec?: number;
  /** @defaultValue 28800 (a working day) */
  readonly refreshTokenLifetimeSec?: number;
  /** Where unexpected request errors are reported. @defaultValue a line on stderr */
  readonly onError?: (err: unknown) => void;
}

/** A token made directly, without a browser flow (tests). */
export interface IssueTokenOptions {
  readonly scope: string;
  /** EHR Patient id of the launch context. */
  readonly patient?: string;
  /** @defaultValue the app's client id */
  readonly clientId?: string;
  /** Negative for a token that has already expired. @defaultValue the access token lifetime */
  readonly expiresInSec?: number;
}

export interface SandboxEhr {
  /** The FHIR base URL, `http://127.0.0.1:<port>/fhir`. */
  readonly iss: string;
  /** The launcher page a person opens. */
  readonly url: string;
  readonly port: number;
  readonly urls: SandboxUrls;
  /** Issues an access token as if an authorization had happened; returns it. */
  issueToken(o: IssueTokenOptions): string;
  close(): Promise<void>;
}

const WILDCARD_HOSTS = new Set(['0.0.0.0', '::', '']);

function originOf(host: string, port: number): string {
  const name = WILDCARD_HOSTS.has(host) ? '127.0.0.1' : host.includes(':') ? `[${host}]` : host;
  return `http://${name}:${port}`;
}

async function listen(server: http.Server, port: number, host: string): Promise<number> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  return (server.address() as AddressInfo).port;
}

function createApp(ctx: SandboxContext, auth: IntrospectionClientAuth, onError: (err: unknown) => void) {
  const app = express();
  app.disable('x-powered-by');
  app.set('query parser', 'simple');
  // The app runs in the browser at the engine's origin and calls discovery, /token and the FHIR
  // reads from there; introspection and authorization are never called cross-origin.
  const browser = cors({
    origin: [...ctx.appOrigins],
    methods: ['GET', 'POST'],
    allowedHeaders: ['authorization', 'content-type', 'accept'],
    maxAge: 600,
  });
  app.use('/fhir', browser, createFhirRouter(ctx));
  app.use(['/token', '/jwks', '/smart-style.json'], browser);
  app.use(createTokenRouter(ctx));
  app.get('/jwks', (_req, res) => {
    res.json(ctx.idTokens.jwks);
  });
  app.get('/smart-style.json', (_req, res) => {
    res.json(SMART_STYLE);
  });
  app.use(createAuthorizeRouter(ctx));
  app.use(createIntrospectionRouter(ctx, auth));
  app.use(createLauncherRouter(ctx));
  app.use((req, res) => {
    res.status(404).json({ error: 'not_found', error_description: `no route for ${req.method} ${req.path}` });
  });
  const handleError: ErrorRequestHandler = (err: unknown, _req, res, _next) => {
    onError(err);
    if (!res.headersSent) res.status(500).json({ error: 'server_error' });
  };
  app.use(handleError);
  return app;
}

/**
 * Starts the sandbox EHR and resolves once it listens.
 * @param o - port, the app it trusts, the demo people and the introspection clients.
 */
export async function startSandboxEhr(o: SandboxEhrOptions): Promise<SandboxEhr> {
  const host = o.host ?? '127.0.0.1';
  const server = http.createServer();
  const port = await listen(server, o.port, host);
  const urls = sandboxUrls(originOf(host, port));
  const appOrigins = [...new Set([o.appLaunchUrl, ...o.appRedirectUris].map((u) => new URL(u).origin))];
  const store = new SandboxStore();
  const ctx: SandboxContext = {
    urls,
    clientId: o.clientId,
    appLaunchUrl: o.appLaunchUrl,
    appRedirectUris: o.appRedirectUris,
    appOrigins,
    patients: o.patients,
    practitioner: o.practitioner,
    store,
    idTokens: await createIdTokenSigner(urls.iss),
    lifetimes: {
      accessTokenSec: o.accessTokenLifetimeSec ?? 3600,
      refreshTokenSec: o.refreshTokenLifetimeSec ?? 8 * 3600,
      codeSec: 60,
      launchSec: 600,
    },
  };
  // Introspection assertions name this endpoint as audience (RFC 7523); the issuer and token
  // endpoint are accepted too, as resource servers differ in what they put there.
  const auth = new IntrospectionClientAuth(o.introspectionClients, [urls.introspect, urls.iss, urls.token]);
  const onError =
    o.onError ??
    ((err: unknown) =>
      process.stderr.write(`sandbox EHR: ${err instanceof Error ? err.stack : String(err)}\n`));
  server.on('request', createApp(ctx, auth, onError));
  const pruning = setInterval(() => store.prune(), 60_000);
  pruning.unref();
  return {
    iss: urls.iss,
    url: `${urls.origin}/`,
    port,
    urls,
    issueToken: (t) => {
      const scopes = grantScopes(t.scope, { ehrLaunch: t.patient !== undefined });
      const grant = store.createGrant({
        clientId: t.clientId ?? o.clientId,
        scopes,
        practitioner: o.practitioner.id,
        ...(t.patient !== undefined ? { patient: t.patient } : {}),
      });
      return store.issue('access', grant, (t.expiresInSec ?? ctx.lifetimes.accessTokenSec) * 1000).token;
    },
    close: () =>
      new Promise<void>((resolve) => {
        clearInterval(pruning);
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
