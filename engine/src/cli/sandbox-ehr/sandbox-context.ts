/**
 * What the sandbox EHR's routes share: its URLs, the one registered app, the demo people, the
 * in-memory store, the id_token signer and the lifetimes, passed in rather than held in module
 * state so two sandboxes (two tests) never meet.
 */
import type { DemoPatient, DemoPractitioner } from './demo-patients';
import type { IdTokenSigner } from './id-token-signer';
import type { SandboxUrls } from './sandbox-discovery';
import type { SandboxStore } from './sandbox-store';

export interface SandboxLifetimes {
  readonly accessTokenSec: number;
  readonly refreshTokenSec: number;
  readonly codeSec: number;
  readonly launchSec: number;
}

export interface SandboxContext {
  readonly urls: SandboxUrls;
  /** The app's client id (public client). */
  readonly clientId: string;
  /** The app's EHR-launch URL; `iss` and `launch` are added. */
  readonly appLaunchUrl: string;
  /** Exact redirect URIs the app registered. */
  readonly appRedirectUris: readonly string[];
  /** Origins of the app's URLs: what may call the sandbox from a browser, and be framed. */
  readonly appOrigins: readonly string[];
  readonly patients: readonly DemoPatient[];
  readonly practitioner: DemoPractitioner;
  readonly store: SandboxStore;
  readonly idTokens: IdTokenSigner;
  readonly lifetimes: SandboxLifetimes;
}

/**
 * Reads one form or query parameter; a repeated one is an error in OAuth (RFC 6749 §3.1).
 * @param source - `req.query` or `req.body`.
 * @param name - the parameter.
 */
export function readParam(source: unknown, name: string): string | undefined | { repeated: true } {
  if (typeof source !== 'object' || source === null) return undefined;
  const value = (source as Record<string, unknown>)[name];
  if (value === undefined) return undefined;
  if (typeof value === 'string') return value;
  return { repeated: true };
}

/**
 * The named parameters that are present once, and the names of those repeated.
 * @param source - `req.query` or `req.body`.
 * @param names - the parameters to read.
 */
export function readParams(
  source: unknown,
  names: readonly string[],
): { values: Partial<Record<string, string>>; repeated: string[] } {
  const values: Partial<Record<string, string>> = {};
  const repeated: string[] = [];
  for (const name of names) {
    const v = readParam(source, name);
    if (typeof v === 'string') values[name] = v;
    else if (v !== undefined) repeated.push(name);
  }
  return { values, repeated };
}
