/**
 * The auth pieces an engine runs with, built once from configuration: the client registry,
 * the EHR issuers, replay store, token service, the token exchange, the bearer-token middleware
 * and the audit writer.
 */
import type { RequestHandler, Router } from 'express';
import type { Config } from '../config/schema';
import { identityRules } from '../identity/link-patient';
import type { Db } from '../store/db';
import { recordAudit, type AuditEvent } from './audit-log';
import { createEhrIntrospector } from './ehr-introspection';
import { loadEhrIssuerRegistry } from './ehr-issuers';
import { createTokenExchanger } from './ehr-token-exchange';
import { createIntrospectionCache } from './introspection-cache';
import { createJtiStore } from './jti-store';
import { requireAuth } from './require-auth';
import {
  buildSmartConfiguration,
  DEFAULT_SCOPES_SUPPORTED,
  type SmartConfiguration,
} from './smart-configuration';
import { loadSmartClientRegistry } from './smart-clients';
import { createTokenRouter } from './token-router';
import { createTokenService, type TokenService } from './token-service';
import { loadTokenSigningKey } from './token-signing-key';

export interface AuthRuntime {
  readonly tokenService: TokenService;
  /** Serves `POST /token`; mount at `/auth`. */
  readonly tokenRouter: Router;
  /** Verifies the bearer token and puts the AccessContext in `res.locals.auth`. */
  readonly authorize: RequestHandler;
  readonly smartConfiguration: SmartConfiguration;
  readonly audit: (event: AuditEvent) => Promise<void>;
}

/**
 * Loads `SMART_CLIENTS_FILE` (no file: no client can get a token) and `EHR_ISSUERS_FILE` (no
 * file: no EHR token is exchanged), both validated here so a bad file stops the start, and
 * wires the rest.
 */
export async function createAuthRuntime(config: Config, db: Db): Promise<AuthRuntime> {
  const clients = await loadSmartClientRegistry(config.smartClientsFile);
  const issuers = await loadEhrIssuerRegistry(config.ehrIssuersFile);
  const keyPair =
    config.tokenSigningKeyFile === undefined
      ? undefined
      : await loadTokenSigningKey(config.tokenSigningKeyFile);
  const tokenService = await createTokenService({
    issuer: config.http.publicUrl,
    ...(keyPair !== undefined ? { keyPair } : {}),
  });
  const audit = (event: AuditEvent): Promise<void> => recordAudit(db, event);
  const exchange = createTokenExchanger({
    db,
    issuers,
    introspector: createEhrIntrospector(),
    cache: createIntrospectionCache(),
    tokenService,
    rules: identityRules(config.identity),
    appClientId: config.smartAppClientId,
    publicUrl: config.http.publicUrl,
    audit,
  });
  return {
    tokenService,
    tokenRouter: createTokenRouter({
      publicUrl: config.http.publicUrl,
      clients,
      jtiStore: createJtiStore(db),
      tokenService,
      exchange,
    }),
    authorize: requireAuth(tokenService),
    smartConfiguration: buildSmartConfiguration(
      config.http.publicUrl,
      DEFAULT_SCOPES_SUPPORTED,
      issuers.issuers.length > 0,
    ),
    audit,
  };
}
