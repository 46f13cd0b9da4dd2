/**
 * `/app/`: the SMART timeline app, served by the engine so the app, its token exchange and the
 * FHIR API share one origin (no CORS, no second deployment). `config.json` tells the built app its
 * client id at the EHR and its scopes, so one build serves every deployment. The pages are never
 * cached (a redeploy takes effect on the next launch); hashed assets are cached for a year.
 * Static files need no token: they hold no patient data.
 */
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import express, { type Router } from 'express';
import { EXCHANGE_APP_SCOPES } from '../auth/exchange-scopes';
import { CONSOLE_PAGE_FILE } from './console-page';
import { setPageSecurityHeaders, type PageReach } from './page-security';

/** `smart-app/dist` of this checkout. */
export const SMART_APP_DIST_DIR = resolve(import.meta.dirname, '../../../smart-app/dist');

/**
 * What the app asks the EHR for: the launch and identity scopes, every type the exchanged engine
 * token can carry (it carries at most what the EHR granted), and `online_access` so fhirclient can
 * refresh the EHR token while the app is open.
 */
export const SMART_APP_SCOPES: readonly string[] = [
  'launch',
  'openid',
  'fhirUser',
  ...EXCHANGE_APP_SCOPES,
  'online_access',
];

export interface SmartAppRouteOptions {
  /** The built app (`vite build smart-app`). */
  readonly distDir: string;
  /** `SMART_APP_CLIENT_ID`. */
  readonly clientId: string;
  /** @defaultValue SMART_APP_SCOPES */
  readonly scopes?: readonly string[];
}

/** One year: Vite names assets by content hash, so a changed asset is a new URL. */
const ASSET_MAX_AGE_S = 365 * 24 * 60 * 60;

/**
 * The pages run inside EHR iframes (any EHR origin may frame them) and talk to the EHR's
 * authorization server and FHIR API (any origin).
 */
const APP_REACH: PageReach = { connectSrc: '*', frameAncestors: '*' };

/** The `/app` router; mount it at `/app`. */
export function createSmartAppRouter(options: SmartAppRouteOptions): Router {
  const router = express.Router();
  const config = { clientId: options.clientId, scopes: options.scopes ?? SMART_APP_SCOPES };

  router.get('/config.json', (_req, res) => {
    res.setHeader('Cache-Control', 'no-cache');
    res.json(config);
  });

  router.use((req, res, next) => {
    // Checked per request, so building the app while the engine runs needs no restart.
    if (existsSync(join(options.distDir, 'index.html'))) {
      next();
      return;
    }
    res
      .status(503)
      .type('text/plain')
      .send(
        'The care timeline app is not built: run `npm run build:app` (npm start builds it when missing).\n',
      );
  });

  // The console's page is built here too, but served at /console under its own, stricter policy.
  router.get(`/${CONSOLE_PAGE_FILE}`, (_req, res) => {
    res.redirect(301, '/console/');
  });

  router.use(
    express.static(options.distDir, {
      index: 'index.html',
      redirect: true,
      fallthrough: true,
      setHeaders: (res, path) => {
        setPageSecurityHeaders(res, APP_REACH);
        const immutable = path.startsWith(join(options.distDir, 'assets'));
        res.setHeader(
          'Cache-Control',
          immutable ? `public, max-age=${ASSET_MAX_AGE_S}, immutable` : 'no-cache',
        );
      },
    }),
  );
  return router;
}
