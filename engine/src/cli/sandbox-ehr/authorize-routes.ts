/**
 * The sandbox EHR's authorization endpoint (SMART App Launch 2.x, GET or POST). The demo
 * practitioner is always signed in and approves at once; what is checked is what a real EHR
 * checks: the client and its exact redirect URI, `response_type=code`, `state`, `aud` = the FHIR
 * base URL, the scopes, and PKCE with S256, without which nothing is issued. An EHR launch takes
 * its patient from the `launch` id; a standalone launch asking for `launch/patient` shows a picker.
 */
import express, { type Request, type Response, type Router } from 'express';
import { escapeHtml, renderPage, sendHtml } from './html-page';
import { readParams, type SandboxContext } from './sandbox-context';
import { grantScopes } from './sandbox-scopes';
import { randomToken, type PendingAuthorization } from './sandbox-store';

const AUTHORIZE_PARAMS = [
  'response_type',
  'client_id',
  'redirect_uri',
  'scope',
  'state',
  'aud',
  'launch',
  'code_challenge',
  'code_challenge_method',
  'nonce',
];

/** RFC 7636 §4.2: a S256 challenge is base64url, 43 characters for SHA-256. */
const CODE_CHALLENGE = /^[A-Za-z0-9._~-]{43,128}$/;

/** What a code is issued for. */
interface CodeRequest {
  readonly redirectUri: string;
  readonly state: string;
  readonly scopes: readonly string[];
  readonly codeChallenge: string;
  readonly patient?: string;
  readonly nonce?: string;
}

/** Where the request came from must not matter: trailing slashes on `aud` are not a mismatch. */
const trimSlash = (url: string): string => url.replace(/\/+$/, '');

/**
 * Sends the browser back to the app with `params` on its redirect URI.
 * @param res - the response.
 * @param redirectUri - the registered redirect URI.
 * @param params - `code` and `state`, or `error`, `error_description` and `state`.
 */
function redirectTo(res: Response, redirectUri: string, params: Record<string, string | undefined>): void {
  const url = new URL(redirectUri);
  for (const [k, v] of Object.entries(params)) if (v !== undefined) url.searchParams.set(k, v);
  // 303 turns a POSTed authorization (or picker form) into a GET of the redirect URI.
  res.redirect(303, url.href);
}

/** An error the browser cannot be sent back with: the client or redirect URI is not trusted. */
function errorPage(ctx: SandboxContext, res: Response, message: string): void {
  const body = `<h1>Cannot sign in to the app</h1><p class="error">${escapeHtml(message)}</p>`;
  sendHtml(res, 400, renderPage({ title: 'Authorization error', practitioner: ctx.practitioner, body }));
}

function issueCode(ctx: SandboxContext, res: Response, clientId: string, r: CodeRequest): void {
  const grant = ctx.store.createGrant({
    clientId,
    scopes: r.scopes,
    practitioner: ctx.practitioner.id,
    ...(r.patient !== undefined ? { patient: r.patient } : {}),
    ...(r.nonce !== undefined ? { nonce: r.nonce } : {}),
  });
  const code = randomToken();
  ctx.store.codes.set(code, {
    grant,
    redirectUri: r.redirectUri,
    codeChallenge: r.codeChallenge,
    expiresAt: Date.now() + ctx.lifetimes.codeSec * 1000,
    used: false,
  });
  redirectTo(res, r.redirectUri, { code, state: r.state });
}

function pickerPage(ctx: SandboxContext, requestId: string): string {
  const rows = ctx.patients
    .map(
      (p) =>
        `<tr><td>${escapeHtml(`${p.family}, ${p.given}`)}</td><td>${escapeHtml(p.birthDate)}</td>` +
        `<td>${escapeHtml(p.mrn)}</td><td><button name="patient" value="${escapeHtml(p.id)}">Select</button></td></tr>`,
    )
    .join('');
  const body =
    `<h1>Choose a patient</h1><p class="note">The app asked for a patient (standalone launch).</p>` +
    `<form method="post" action="/authorize/patient"><input type="hidden" name="request" value="${escapeHtml(requestId)}">` +
    `<table><thead><tr><th>Patient</th><th>Born</th><th>MRN</th><th></th></tr></thead><tbody>${rows}</tbody></table>` +
    `<p><button class="secondary" name="cancel" value="1">Cancel</button></p></form>`;
  return renderPage({ title: 'Choose a patient', practitioner: ctx.practitioner, body });
}

function authorize(ctx: SandboxContext, req: Request, res: Response): void {
  const { values: p, repeated } = readParams(req.method === 'POST' ? req.body : req.query, AUTHORIZE_PARAMS);
  const clientId = p['client_id'];
  const redirectUri = p['redirect_uri'];
  if (clientId !== ctx.clientId) return errorPage(ctx, res, 'Unknown client_id.');
  if (redirectUri === undefined || !ctx.appRedirectUris.includes(redirectUri)) {
    return errorPage(ctx, res, 'redirect_uri is not registered for this app.');
  }
  const state = p['state'];
  const fail = (error: string, description: string): void =>
    redirectTo(res, redirectUri, { error, error_description: description, state });
  if (repeated.length > 0) return fail('invalid_request', `parameters given twice: ${repeated.join(', ')}`);
  if (p['response_type'] !== 'code') return fail('unsupported_response_type', 'response_type must be code');
  if (state === undefined || state === '') return fail('invalid_request', 'state is required');
  const codeChallenge = p['code_challenge'];
  if (codeChallenge === undefined || p['code_challenge_method'] !== 'S256') {
    return fail('invalid_request', 'PKCE is required: send code_challenge with code_challenge_method=S256');
  }
  if (!CODE_CHALLENGE.test(codeChallenge)) return fail('invalid_request', 'code_challenge is malformed');
  if (trimSlash(p['aud'] ?? '') !== trimSlash(ctx.urls.iss)) {
    return fail('invalid_request', `aud must be this EHR's FHIR base URL, ${ctx.urls.iss}`);
  }
  const launchId = p['launch'];
  const scopes = grantScopes(p['scope'] ?? '', { ehrLaunch: launchId !== undefined });
  if (scopes.length === 0) return fail('invalid_scope', 'none of the requested scopes can be granted');
  const request = {
    redirectUri,
    state,
    scopes,
    codeChallenge,
    ...(p['nonce'] !== undefined ? { nonce: p['nonce'] } : {}),
  };
  if (launchId !== undefined) {
    const launch = ctx.store.findLaunch(launchId);
    if (launch === undefined) {
      return fail('invalid_request', 'unknown or expired launch: launch the app again');
    }
    if (!scopes.includes('launch')) return fail('invalid_scope', 'an EHR launch needs the launch scope');
    return issueCode(ctx, res, clientId, { ...request, patient: launch.patient });
  }
  if (scopes.includes('launch/patient')) {
    const requestId = randomToken();
    const pending: PendingAuthorization = {
      clientId,
      ...request,
      expiresAt: Date.now() + ctx.lifetimes.launchSec * 1000,
    };
    ctx.store.pending.set(requestId, pending);
    return sendHtml(res, 200, pickerPage(ctx, requestId), { formAction: ctx.appOrigins });
  }
  issueCode(ctx, res, clientId, request);
}

function choosePatient(ctx: SandboxContext, req: Request, res: Response): void {
  const { values } = readParams(req.body, ['request', 'patient', 'cancel']);
  const requestId = values['request'] ?? '';
  const pending = ctx.store.pending.get(requestId);
  // One answer per request: a second submission (back button) finds nothing.
  ctx.store.pending.delete(requestId);
  if (pending === undefined || pending.expiresAt <= Date.now()) {
    return errorPage(ctx, res, 'This sign-in request has expired. Start the app again.');
  }
  if (values['cancel'] !== undefined) {
    return redirectTo(res, pending.redirectUri, {
      error: 'access_denied',
      error_description: 'the user cancelled',
      state: pending.state,
    });
  }
  const patient = ctx.patients.find((x) => x.id === values['patient']);
  if (patient === undefined) return errorPage(ctx, res, 'Unknown patient.');
  issueCode(ctx, res, pending.clientId, { ...pending, patient: patient.id });
}

/**
 * The `/authorize` routes.
 * @param ctx - the sandbox's shared state.
 */
export function createAuthorizeRouter(ctx: SandboxContext): Router {
  const router = express.Router();
  const form = express.urlencoded({ extended: false, limit: '16kb' });
  router.get('/authorize', (req, res) => authorize(ctx, req, res));
  router.post('/authorize', form, (req, res) => authorize(ctx, req, res));
  router.post('/authorize/patient', form, (req, res) => choosePatient(ctx, req, res));
  return router;
}
