/**
 * The HTTP part of the engine: the FHIR API, auth, admin and console routes, with the
 * notification rules on registration writes. `startEngine` imports this file only in a process
 * that serves HTTP.
 */
import type { Server } from 'node:http';
import { createHttpApp, type HttpAppDeps } from './http/create-app';
import { listenHttp } from './http/listen-http';
import { identityRules } from './identity/link-patient';
import { createRegistrationRules } from './notify/registration-rules';
import { syncGroupRoster } from './notify/roster-group';
import { activateSubscription } from './notify/subscription-lifecycle';

export type HttpPartDeps = Omit<HttpAppDeps, 'registration'> & {
  /** Where the server's close is registered (run last-first by the engine's stop). */
  readonly cleanups: (() => Promise<void> | void)[];
};

/**
 * Serves HTTP on `config.http` and registers its graceful close.
 * @returns the port bound.
 */
export async function startHttp(deps: HttpPartDeps): Promise<number> {
  const { cleanups, ...appDeps } = deps;
  const { config, db, logger } = appDeps;
  const lifecycle = {
    db,
    baseUrl: config.http.publicUrl,
    policy: config.notify.endpointPolicy,
    timeoutMs: config.notify.timeoutMs,
    logger,
  };
  const registration = createRegistrationRules({
    policy: lifecycle.policy,
    syncGroup: async (tx, id, group) => {
      await syncGroupRoster(tx, id, group, identityRules(config.identity));
    },
    // The handshake runs after the answer to the POST: the subscriber sees `requested`, then
    // `active` (or `error`, with the reason) on its next read or $status.
    activate: (id) => void activateSubscription(lifecycle, id),
    logger,
  });
  const app = createHttpApp({ ...appDeps, registration });
  const server: Server = await listenHttp(app, config.http);
  cleanups.push(
    () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
        // In-flight requests get a moment to finish; then what is left is cut.
        setTimeout(() => server.closeAllConnections(), 2_000).unref();
      }),
  );
  const address = server.address();
  return typeof address === 'object' && address !== null ? address.port : config.http.port;
}
