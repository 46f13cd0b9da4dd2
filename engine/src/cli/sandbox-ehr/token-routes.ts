/**
 * The sandbox EHR's token endpoint for its public app: `authorization_code` with the PKCE
 * verifier, the exact redirect URI and a code that works once (a second use revokes what the
 * first issued), and `refresh_token`, which rotates: each refresh token works once, and a used one
 * presented again revokes the grant, since only a thief would still have it.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import express, { type Request, type Response, type Router } from 'express';
import { readParams, type SandboxContext } from './sandbox-context';
import type { Grant } from './sandbox-store';

/** RFC 7636 §4.1. */
const CODE_VERIFIER = /^[A-Za-z0-9._~-]{43,128}$/;

/** The SMART token response. */
export interface TokenResponse {
  readonly access_token: string;
  readonly token_type: 'Bearer';
  readonly expires_in: number;
  readonly scope: string;
  readonly patient?: string;
  readonly need_patient_banner?: boolean;
  readonly smart_style_url?: string;
  readonly id_token?: string;
  readonly refresh_token?: string;
}

function oauthError(res: Response, status: number, error: string, description: string): void {
  res.status(status).set({ 'cache-control': 'no-store', pragma: 'no-cache' });
  res.json({ error, error_description: description });
}

function s256(verifier: string): string {
  return createHash('sha256').update(verifier).digest('base64url');
}

function sameString(a: string, b: string): boolean {
  const ba = Buffer.from(a);
  const bb = Buffer.from(b);
  return ba.length === bb.length && timingSafeEqual(ba, bb);
}

/**
 * Issues an access token (and a refresh token and id_token when the scopes ask for them) under
 * `grant`.
 * @param ctx - the sandbox's shared state.
 * @param grant - the authorization.
 * @param withIdToken - id_tokens come from the code exchange only, as OIDC does.
 */
export async function issueTokens(
  ctx: SandboxContext,
  grant: Grant,
  withIdToken: boolean,
): Promise<TokenResponse> {
  const lifetime = ctx.lifetimes.accessTokenSec;
  const access = ctx.store.issue('access', grant, lifetime * 1000);
  const refreshable = grant.scopes.includes('online_access') || grant.scopes.includes('offline_access');
  const refresh = refreshable
    ? ctx.store.issue('refresh', grant, ctx.lifetimes.refreshTokenSec * 1000).token
    : undefined;
  const p = ctx.practitioner;
  const idToken =
    withIdToken && grant.scopes.includes('openid')
      ? await ctx.idTokens.sign({
          clientId: grant.clientId,
          subject: grant.practitioner,
          fhirUser: `${ctx.urls.iss}/Practitioner/${grant.practitioner}`,
          ...(grant.scopes.includes('profile') ? { name: `${p.given} ${p.family}` } : {}),
          ...(grant.nonce !== undefined ? { nonce: grant.nonce } : {}),
          lifetimeSec: lifetime,
        })
      : undefined;
  return {
    access_token: access.token,
    token_type: 'Bearer',
    expires_in: lifetime,
    scope: grant.scopes.join(' '),
    // The app is framed inside the EHR but shows its own banner: the sandbox's chart header is
    // decoration, not the identification a clinician relies on.
    ...(grant.patient !== undefined ? { patient: grant.patient, need_patient_banner: true } : {}),
    smart_style_url: ctx.urls.style,
    ...(idToken !== undefined ? { id_token: idToken } : {}),
    ...(refresh !== undefined ? { refresh_token: refresh } : {}),
  };
}

function sameScopes(scope: string, granted: readonly string[]): boolean {
  const asked = new Set(scope.split(' ').filter((s) => s !== ''));
  return asked.size === granted.length && granted.every((s) => asked.has(s));
}

function revoke(grant: Grant): void {
  grant.revoked = true;
}

async function exchangeCode(
  ctx: SandboxContext,
  p: Partial<Record<string, string>>,
  res: Response,
): Promise<void> {
  const code = ctx.store.codes.get(p['code'] ?? '');
  if (code === undefined || code.expiresAt <= Date.now()) {
    return oauthError(res, 400, 'invalid_grant', 'unknown or expired code');
  }
  if (code.used) {
    revoke(code.grant);
    return oauthError(res, 400, 'invalid_grant', 'code already used: its tokens are revoked');
  }
  // Spent even if the checks below fail, so a code cannot be tried against several verifiers.
  code.used = true;
  if (p['client_id'] !== code.grant.clientId) return oauthError(res, 400, 'invalid_grant', 'wrong client_id');
  if (p['redirect_uri'] !== code.redirectUri) {
    return oauthError(res, 400, 'invalid_grant', 'redirect_uri does not match the authorization request');
  }
  const verifier = p['code_verifier'];
  if (verifier === undefined || !CODE_VERIFIER.test(verifier)) {
    return oauthError(res, 400, 'invalid_grant', 'code_verifier is required (PKCE)');
  }
  if (!sameString(s256(verifier), code.codeChallenge)) {
    return oauthError(res, 400, 'invalid_grant', 'code_verifier does not match code_challenge');
  }
  sendTokens(res, await issueTokens(ctx, code.grant, true));
}

async function refresh(
  ctx: SandboxContext,
  p: Partial<Record<string, string>>,
  res: Response,
): Promise<void> {
  const record = ctx.store.refreshTokens.get(p['refresh_token'] ?? '');
  if (record === undefined || record.expiresAt <= Date.now() || record.grant.revoked) {
    return oauthError(res, 400, 'invalid_grant', 'unknown, expired or revoked refresh_token');
  }
  if (record.used) {
    revoke(record.grant);
    return oauthError(res, 400, 'invalid_grant', 'refresh_token already used: the grant is revoked');
  }
  // A public client need not send client_id on refresh (fhirclient does not); if sent, it must fit.
  const clientId = p['client_id'];
  if (clientId !== undefined && clientId !== record.grant.clientId) {
    return oauthError(res, 400, 'invalid_grant', 'wrong client_id');
  }
  // Narrowing on refresh would need a grant of its own to revoke with this one; the app never asks.
  const scope = p['scope'];
  if (scope !== undefined && !sameScopes(scope, record.grant.scopes)) {
    return oauthError(res, 400, 'invalid_scope', 'a refresh keeps the granted scopes; omit scope');
  }
  record.used = true;
  sendTokens(res, await issueTokens(ctx, record.grant, false));
}

function sendTokens(res: Response, body: TokenResponse): void {
  res.status(200).set({ 'cache-control': 'no-store', pragma: 'no-cache' }).json(body);
}

async function token(ctx: SandboxContext, req: Request, res: Response): Promise<void> {
  const names = [
    'grant_type',
    'code',
    'redirect_uri',
    'code_verifier',
    'client_id',
    'refresh_token',
    'scope',
  ];
  const { values: p, repeated } = readParams(req.body, names);
  if (repeated.length > 0) {
    return oauthError(res, 400, 'invalid_request', `parameters given twice: ${repeated.join(', ')}`);
  }
  if (req.headers.authorization !== undefined) {
    return oauthError(
      res,
      401,
      'invalid_client',
      'the app is a public client: send client_id, no credentials',
    );
  }
  const grantType = p['grant_type'];
  if (grantType === 'authorization_code') return exchangeCode(ctx, p, res);
  if (grantType === 'refresh_token') return refresh(ctx, p, res);
  oauthError(res, 400, 'unsupported_grant_type', 'use authorization_code or refresh_token');
}

/**
 * The `/token` route.
 * @param ctx - the sandbox's shared state.
 */
export function createTokenRouter(ctx: SandboxContext): Router {
  const router = express.Router();
  router.post('/token', express.urlencoded({ extended: false, limit: '16kb' }), (req, res, next) => {
    token(ctx, req, res).catch(next);
  });
  return router;
}
