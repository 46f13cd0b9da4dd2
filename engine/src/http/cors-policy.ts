/**
 * Cross-origin access as SMART App Launch expects it: a browser app anywhere may read the
 * discovery documents (they are public and say nothing about patients), but only the configured
 * origins (CORS_ALLOWED_ORIGINS and the engine's own) may call the token endpoint and the FHIR
 * API from a page. Bearer tokens, never cookies, so no credentialed CORS.
 */
import cors, { type CorsOptions } from 'cors';
import type { Request, RequestHandler } from 'express';

/** Paths anyone may read from any origin. */
const DISCOVERY_PATHS: ReadonlySet<string> = new Set([
  '/fhir/metadata',
  '/fhir/.well-known/smart-configuration',
]);

/** Headers a FHIR client sends: its token, body type, conditional and FHIR preference headers. */
const ALLOWED_HEADERS = ['Authorization', 'Content-Type', 'Accept', 'If-Match', 'If-None-Match', 'Prefer'];

/** Headers a page may read from an answer: versioning, paging and why a token was refused. */
const EXPOSED_HEADERS = ['ETag', 'Last-Modified', 'Location', 'Content-Location', 'WWW-Authenticate'];

/** How long a browser may reuse a preflight answer, in seconds. */
const PREFLIGHT_MAX_AGE = 600;

const open: CorsOptions = { origin: '*', methods: ['GET', 'HEAD'], maxAge: PREFLIGHT_MAX_AGE };

/**
 * The CORS middleware for `/fhir` and `/auth`; mount it before both (it answers preflights).
 * @param allowedOrigins - `config.http.corsAllowedOrigins` (exact origins).
 */
export function createCorsPolicy(allowedOrigins: readonly string[]): RequestHandler {
  const allowed = new Set(allowedOrigins);
  const restricted: CorsOptions = {
    // An origin not listed gets no Access-Control-Allow-Origin, so its page cannot read the answer.
    origin: (origin, callback) => callback(null, origin !== undefined && allowed.has(origin)),
    methods: ['GET', 'HEAD', 'POST', 'PUT', 'DELETE'],
    allowedHeaders: ALLOWED_HEADERS,
    exposedHeaders: EXPOSED_HEADERS,
    credentials: false,
    maxAge: PREFLIGHT_MAX_AGE,
  };
  return cors<Request>((req, callback) => {
    const path = req.originalUrl.split('?')[0] ?? '';
    callback(null, DISCOVERY_PATHS.has(path) ? open : restricted);
  });
}
