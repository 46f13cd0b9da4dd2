/**
 * The sandbox EHR's FHIR base (`iss`): open discovery (SMART configuration, OpenID configuration,
 * CapabilityStatement) and reads of the demo Patients and the Practitioner, which need an access
 * token the sandbox issued. A patient-bound token reads its own patient only; another patient is
 * 404, as if it did not exist, so a token cannot probe for ids.
 */
import express, { type Request, type Response, type Router } from 'express';
import { patientResource, practitionerResource } from './ehr-resources';
import type { SandboxContext } from './sandbox-context';
import { capabilityStatement, openIdConfiguration, smartConfiguration } from './sandbox-discovery';
import { allowsRead } from './sandbox-scopes';
import type { IssuedToken } from './sandbox-store';

function sendFhir(res: Response, status: number, resource: Record<string, unknown>): void {
  res.status(status).type('application/fhir+json').send(JSON.stringify(resource));
}

function sendOutcome(res: Response, status: number, code: string, diagnostics: string): void {
  sendFhir(res, status, {
    resourceType: 'OperationOutcome',
    issue: [{ severity: 'error', code, diagnostics }],
  });
}

/** The request's token record, or undefined after answering 401. */
function requireToken(ctx: SandboxContext, req: Request, res: Response): IssuedToken | undefined {
  const header = req.headers.authorization ?? '';
  const match = /^Bearer +([^ ]+)$/i.exec(header);
  const record = match?.[1] !== undefined ? ctx.store.activeAccessToken(match[1]) : undefined;
  if (record !== undefined) return record;
  res.set(
    'www-authenticate',
    match === null ? 'Bearer realm="sandbox-ehr"' : 'Bearer realm="sandbox-ehr", error="invalid_token"',
  );
  sendOutcome(
    res,
    401,
    'login',
    match === null ? 'an access token is required' : 'the access token is not active',
  );
  return undefined;
}

function forbidden(res: Response, type: string): void {
  res.set('www-authenticate', 'Bearer realm="sandbox-ehr", error="insufficient_scope"');
  sendOutcome(res, 403, 'forbidden', `the token's scopes do not allow reading ${type}`);
}

function readPatient(ctx: SandboxContext, req: Request<{ id: string }>, res: Response): void {
  const record = requireToken(ctx, req, res);
  if (record === undefined) return;
  const { scopes, patient } = record.grant;
  const asUser = allowsRead(scopes, 'user', 'Patient');
  const asPatient = allowsRead(scopes, 'patient', 'Patient');
  if (!asUser && !asPatient) return forbidden(res, 'Patient');
  const found = ctx.patients.find((p) => p.id === req.params.id);
  if (found === undefined || (!asUser && found.id !== patient)) {
    return sendOutcome(res, 404, 'not-found', `Patient/${req.params.id} is not known`);
  }
  sendFhir(res, 200, patientResource(found, ctx.practitioner));
}

function readPractitioner(ctx: SandboxContext, req: Request<{ id: string }>, res: Response): void {
  const record = requireToken(ctx, req, res);
  if (record === undefined) return;
  const { scopes, practitioner } = record.grant;
  // fhirUser lets an app read its own user; practitioners are not in a patient's compartment,
  // so a patient scope on Practitioner reads the ones a patient's record points at.
  const self = scopes.includes('fhirUser') && req.params.id === practitioner;
  if (
    !self &&
    !allowsRead(scopes, 'user', 'Practitioner') &&
    !allowsRead(scopes, 'patient', 'Practitioner')
  ) {
    return forbidden(res, 'Practitioner');
  }
  if (req.params.id !== ctx.practitioner.id) {
    return sendOutcome(res, 404, 'not-found', `Practitioner/${req.params.id} is not known`);
  }
  sendFhir(res, 200, practitionerResource(ctx.practitioner));
}

/**
 * The routes under `/fhir`.
 * @param ctx - the sandbox's shared state.
 */
export function createFhirRouter(ctx: SandboxContext): Router {
  const router = express.Router();
  router.get('/.well-known/smart-configuration', (_req, res) => {
    res.json(smartConfiguration(ctx.urls));
  });
  router.get('/.well-known/openid-configuration', (_req, res) => {
    res.json(openIdConfiguration(ctx.urls));
  });
  router.get('/metadata', (_req, res) => sendFhir(res, 200, capabilityStatement(ctx.urls)));
  router.get('/Patient/:id', (req, res) => readPatient(ctx, req, res));
  router.get('/Practitioner/:id', (req, res) => readPractitioner(ctx, req, res));
  router.use((req, res) =>
    sendOutcome(res, 404, 'not-supported', `the sandbox EHR does not serve ${req.method} ${req.path}`),
  );
  return router;
}
