/**
 * The auth pieces an engine runs with, built once from configuration: the client registry,
 * replay store, token service, the bearer-token middleware and the audit writer.
 */
import type { RequestHandler, Router } from 'express';
import type { Config } from '../config/schema';
import type { Db } from '../store/db';
import { recordAudit, type AuditEvent } from './audit-log';
import { createJtiStore } from './jti-store';
import { requireAuth } from './require-auth';
import { buildSmartConfiguration, type SmartConfiguration } from './smart-configuration';
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

/** Loads `SMART_CLIENTS_FILE` (no file: no client can get a token) and wires the rest. */
export async function createAuthRuntime(config: Config, db: Db): Promise<AuthRuntime> {
  const clients = await loadSmartClientRegistry(config.smartClientsFile);
  const keyPair =
    config.tokenSigningKeyFile === undefined
      ? undefined
      : await loadTokenSigningKey(config.tokenSigningKeyFile);
  const tokenService = await createTokenService({
    issuer: config.http.publicUrl,
    ...(keyPair !== undefined ? { keyPair } : {}),
  });
  return {
    tokenService,
    tokenRouter: createTokenRouter({
      publicUrl: config.http.publicUrl,
      clients,
      jtiStore: createJtiStore(db),
      tokenService,
    }),
    authorize: requireAuth(tokenService),
    smartConfiguration: buildSmartConfiguration(config.http.publicUrl),
    audit: (event) => recordAudit(db, event),
  };
}
