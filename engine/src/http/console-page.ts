/**
 * The analyst console's page (`smart-app/dist/console.html`, a Vite entry of the SMART app's
 * build, whose assets are served under `/app/assets/`). Every `/console/...` page path answers
 * the same page, which routes in the browser. Unlike the SMART app the console is never framed
 * and talks only to this engine, so its policy is tighter: no framing, no other origin.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { RequestHandler, Response } from 'express';
import { outcome, sendOutcome } from './operation-outcome';
import { setPageSecurityHeaders, type PageReach } from './page-security';

/** The built page's file name in the app's `dist`. */
export const CONSOLE_PAGE_FILE = 'console.html';

/** Never framed, and talks only to this engine. */
const CONSOLE_REACH: PageReach = { connectSrc: "'self'", frameAncestors: "'none'" };

/** Headers for the console page and its sign-in answers. */
export function setConsoleSecurityHeaders(res: Response): void {
  setPageSecurityHeaders(res, CONSOLE_REACH);
}

/**
 * Answers the page, or 503 until it is built. Checked per request, so building while the engine
 * runs needs no restart. Never cached: a rebuilt console takes effect on the next load.
 * @param distDir - `smart-app/dist`.
 */
export function serveConsolePage(distDir: string): RequestHandler {
  const page = join(distDir, CONSOLE_PAGE_FILE);
  return (_req, res, next) => {
    res.setHeader('Cache-Control', 'no-store');
    if (!existsSync(page)) {
      sendOutcome(
        res,
        outcome('transient', 'console not built: run `npm run build:app` (npm start builds it when missing)'),
      );
      return;
    }
    setConsoleSecurityHeaders(res);
    res.sendFile(page, { cacheControl: false }, (err?: Error) => {
      if (err !== undefined && !res.headersSent) next(err);
    });
  };
}
