/**
 * What the sandbox EHR's authorization server remembers, in memory: launch contexts, codes,
 * grants and the opaque tokens issued under them. Tokens are random strings rather than JWTs, as
 * many EHRs issue them, so a resource server (the engine) must introspect to learn what one means.
 * A grant ties together every token issued from one authorization, so a replayed code or refresh
 * token can revoke all of them, as RFC 6749 §4.1.2 and OAuth 2.0 Security BCP §4.14 advise.
 */
import { randomBytes } from 'node:crypto';

/** One authorization: who, for which app, with what scope and launch context. */
export interface Grant {
  readonly id: string;
  readonly clientId: string;
  readonly scopes: readonly string[];
  /** The EHR Patient id of the launch context, when there is one. */
  readonly patient?: string;
  /** The EHR Practitioner id of the user. */
  readonly practitioner: string;
  /** OIDC `nonce` from the authorization request, echoed in the id_token. */
  readonly nonce?: string;
  revoked: boolean;
}

/** An authorization code, usable once within its lifetime. */
export interface AuthorizationCode {
  readonly grant: Grant;
  readonly redirectUri: string;
  readonly codeChallenge: string;
  readonly expiresAt: number;
  used: boolean;
}

/** An access or refresh token. */
export interface IssuedToken {
  readonly grant: Grant;
  readonly issuedAt: number;
  readonly expiresAt: number;
  /** Refresh tokens rotate: a used one revokes the grant if presented again. */
  used: boolean;
}

/** The patient the EHR user had open when they launched the app. */
export interface LaunchContext {
  readonly patient: string;
  readonly expiresAt: number;
}

/** A standalone authorization request waiting for the user to pick a patient. */
export interface PendingAuthorization {
  readonly clientId: string;
  readonly redirectUri: string;
  readonly state: string;
  readonly scopes: readonly string[];
  readonly codeChallenge: string;
  readonly nonce?: string;
  readonly expiresAt: number;
}

/** An unguessable, URL-safe value (256 bits). */
export function randomToken(): string {
  return randomBytes(32).toString('base64url');
}

interface Expiring {
  readonly expiresAt: number;
}

function prune<T extends Expiring>(map: Map<string, T>, now: number): void {
  for (const [key, value] of map) if (value.expiresAt <= now) map.delete(key);
}

/** The in-memory state; expired entries are dropped by `prune`. */
export class SandboxStore {
  readonly launches = new Map<string, LaunchContext>();
  readonly pending = new Map<string, PendingAuthorization>();
  readonly codes = new Map<string, AuthorizationCode>();
  readonly accessTokens = new Map<string, IssuedToken>();
  readonly refreshTokens = new Map<string, IssuedToken>();

  /**
   * Creates a launch context for `patient`.
   * @param patient - EHR Patient id.
   * @param lifetimeMs - how long the app has to start its authorization.
   */
  createLaunch(patient: string, lifetimeMs: number): string {
    const id = randomToken();
    this.launches.set(id, { patient, expiresAt: Date.now() + lifetimeMs });
    return id;
  }

  /** The launch context, or undefined when unknown or expired. */
  findLaunch(id: string): LaunchContext | undefined {
    const launch = this.launches.get(id);
    return launch !== undefined && launch.expiresAt > Date.now() ? launch : undefined;
  }

  /** Creates a grant; its tokens are issued separately. */
  createGrant(g: Omit<Grant, 'id' | 'revoked'>): Grant {
    return { ...g, id: randomToken(), revoked: false };
  }

  /**
   * Issues a token under `grant`.
   * @param kind - which map it goes in.
   * @param lifetimeMs - negative values make an already expired token (tests).
   */
  issue(
    kind: 'access' | 'refresh',
    grant: Grant,
    lifetimeMs: number,
  ): { token: string; record: IssuedToken } {
    const token = randomToken();
    const now = Date.now();
    const record: IssuedToken = { grant, issuedAt: now, expiresAt: now + lifetimeMs, used: false };
    (kind === 'access' ? this.accessTokens : this.refreshTokens).set(token, record);
    return { token, record };
  }

  /** An access token that is known, unexpired and whose grant stands; else undefined. */
  activeAccessToken(token: string): IssuedToken | undefined {
    const record = this.accessTokens.get(token);
    if (record === undefined || record.grant.revoked || record.expiresAt <= Date.now()) return undefined;
    return record;
  }

  /** Drops what has expired, so memory stays bounded however long the demo runs. */
  prune(): void {
    const now = Date.now();
    prune(this.launches, now);
    prune(this.pending, now);
    prune(this.codes, now);
    prune(this.accessTokens, now);
    prune(this.refreshTokens, now);
  }
}
