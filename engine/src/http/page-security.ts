/**
 * The security headers of the pages the engine serves, the SMART app (`/app`) and the analyst
 * console (`/console`): one policy for both, differing only in how far a page reaches beyond
 * this origin, so a tightening made for one is not forgotten in the other.
 */
import type { Response } from 'express';

/** What a page may reach beyond running this origin's scripts and styles. */
export interface PageReach {
  /** `connect-src`: `'self'`, or `*` for an app that talks to any EHR. */
  readonly connectSrc: string;
  /** `frame-ancestors`: `'none'`, or `*` for an app that runs inside any EHR's iframe. */
  readonly frameAncestors: string;
}

/** The Content-Security-Policy of a page. */
export function contentSecurityPolicy(reach: PageReach): string {
  return [
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    `connect-src ${reach.connectSrc}`,
    `frame-ancestors ${reach.frameAncestors}`,
    "object-src 'none'",
    "base-uri 'self'",
  ].join('; ');
}

/** Sets the policy, `nosniff` and `no-referrer` (an OAuth redirect carries its code in the URL). */
export function setPageSecurityHeaders(res: Response, reach: PageReach): void {
  res.setHeader('Content-Security-Policy', contentSecurityPolicy(reach));
  res.setHeader('X-Content-Type-Options', 'nosniff');
  res.setHeader('Referrer-Policy', 'no-referrer');
  // Older browsers that ignore frame-ancestors.
  if (reach.frameAncestors === "'none'") res.setHeader('X-Frame-Options', 'DENY');
}
