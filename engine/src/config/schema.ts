/**
 * Every setting the engine reads, parsed once from the environment into a frozen Config.
 * All problems are reported together so an operator fixes a deployment in one pass.
 */
import { parseAllowedHosts, PUBLIC_ONLY_POLICY, type AddressPolicy } from '../notify/endpoint-address-policy';
import { CodedError } from '../errors/coded-error';
import { parseDefaultTimezone } from './default-timezone';
import { z } from 'zod';

const port = z.coerce.number().int().min(0).max(65535);
const optionalPath = z
  .string()
  .optional()
  .transform((v) => (v === '' ? undefined : v));

const envSchema = z.object({
  MLLP_PORT: port.default(2575),
  MLLP_HOST: z.string().default('0.0.0.0'),
  MLLP_TLS_CERT: optionalPath,
  MLLP_TLS_KEY: optionalPath,
  MLLP_TLS_CA: optionalPath,
  MLLP_ALLOWED_SENDERS: z.string().optional(),
  MLLP_MAX_FRAME_BYTES: z.coerce
    .number()
    .int()
    .positive()
    .default(1024 * 1024),
  MLLP_IDLE_TIMEOUT_MS: z.coerce
    .number()
    .int()
    .positive()
    .default(5 * 60_000),
  MLLP_MAX_CONNECTIONS: z.coerce.number().int().positive().default(200),
  MLLP_MAX_CONNECTIONS_PER_PEER: z.coerce.number().int().positive().default(20),
  MLLP_FRAME_TIMEOUT_MS: z.coerce.number().int().positive().default(30_000),
  MLLP_MAX_SEGMENTS: z.coerce.number().int().positive().default(5_000),
  MLLP_MAX_REPETITIONS: z.coerce.number().int().positive().default(1_000),
  HTTP_PORT: port.default(8080),
  HTTP_HOST: z.string().default('0.0.0.0'),
  HTTP_TLS_CERT: optionalPath,
  HTTP_TLS_KEY: optionalPath,
  PUBLIC_URL: z.url().optional(),
  REDIS_URL: z.string().default('redis://127.0.0.1:6379'),
  QUEUE_PREFIX: z
    .string()
    .regex(/^[A-Za-z0-9_-]+$/)
    .default('care'),
  DATABASE_URL: optionalPath,
  DATABASE_SCHEMA: z
    .string()
    .regex(/^[a-z_][a-z0-9_]*$/)
    .default('public'),
  DATA_DIR: z.string().default('./data'),
  DATABASE_TIMEOUT_MS: z.coerce.number().int().positive().default(5_000),
  REDIS_TIMEOUT_MS: z.coerce.number().int().positive().default(2_000),
  MAPPINGS_DIR: z.string().default('./mappings'),
  DEFAULT_TIMEZONE: z.string().optional(),
  SMART_CLIENTS_FILE: optionalPath,
  EHR_ISSUERS_FILE: optionalPath,
  SMART_APP_CLIENT_ID: z.string().min(1).default('care-timeline'),
  CORS_ALLOWED_ORIGINS: z.string().optional(),
  TOKEN_SIGNING_KEY_FILE: optionalPath,
  WORKER_CONCURRENCY: z.coerce.number().int().positive().default(2),
  IDENTITY_LINK_THRESHOLD: z.coerce.number().default(20),
  IDENTITY_REVIEW_THRESHOLD: z.coerce.number().default(10),
  IDENTITY_CERTAIN_IDENTIFIER_TYPES: z
    .string()
    .regex(/^[A-Z0-9]+(,[A-Z0-9]+)*$|^$/, 'comma-separated v2-0203 codes, e.g. PE,MB')
    .default('PE,MB,MA,MC'),
  ENDPOINT_ALLOWED_HOSTS: z.string().optional(),
  NOTIFY_TIMEOUT_MS: z.coerce.number().int().positive().default(10_000),
  NOTIFY_RETRY_BASE_MS: z.coerce.number().int().positive().default(2_000),
  NOTIFY_RETRY_MAX_MS: z.coerce.number().int().positive().default(600_000),
  NOTIFY_MAX_ATTEMPTS: z.coerce.number().int().positive().max(100).default(15),
  NOTIFY_BREAKER_FAILURES: z.coerce.number().int().positive().default(5),
  NOTIFY_BREAKER_HALF_OPEN_MS: z.coerce.number().int().positive().default(30_000),
  CONSOLE_USERS_FILE: optionalPath,
  CONSOLE_OIDC_ISSUER: z.url().optional(),
  CONSOLE_OIDC_CLIENT_ID: z.string().min(1).optional(),
  CONSOLE_OIDC_CLIENT_SECRET: z.string().min(1).optional(),
  CONSOLE_OIDC_ROLES_CLAIM: z.string().min(1).default('roles'),
  CONSOLE_SESSION_HOURS: z.coerce
    .number()
    .positive()
    .max(24 * 30)
    .default(8),
  CONSOLE_LOGIN_MAX_FAILURES: z.coerce.number().int().positive().default(5),
  RETENTION_DAYS: z.coerce.number().int().positive().default(365),
  RETENTION_INTERVAL_MS: z.coerce
    .number()
    .int()
    .positive()
    .default(60 * 60_000),
  ENGINE_ROLE: z.enum(['all', 'ingest', 'worker', 'http']).default('all'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
});

export type EngineRole = z.infer<typeof envSchema>['ENGINE_ROLE'];

/** A sender as the allowlist names it: MSH-4 alone, or MSH-3 and MSH-4. */
export interface AllowedSender {
  readonly application?: string;
  readonly facility: string;
}

/** Identity matching: thresholds in match weight (log2 likelihood ratio), see README. */
export interface IdentitySettings {
  readonly linkThreshold: number;
  readonly reviewThreshold: number;
  /** v2-0203 identifier types that name one person at every facility (enterprise, payer). */
  readonly certainIdentifierTypes: readonly string[];
}

/** How notices reach practices (see README, Notifications). */
export interface NotifySettings {
  /** Hosts, IPs or CIDRs an endpoint may use although private or loopback (SSRF guard). */
  readonly endpointPolicy: AddressPolicy;
  /** Bound on one delivery attempt: connect, send and answer. */
  readonly timeoutMs: number;
  /** Exponential backoff with jitter between attempts, from `baseMs` up to `maxMs`. */
  readonly retryBaseMs: number;
  readonly retryMaxMs: number;
  /** Attempts before a notice is dead-lettered (`failed`, with the reason). */
  readonly maxAttempts: number;
  /** Consecutive failures that open an endpoint's circuit, and how long it stays open. */
  readonly breakerFailures: number;
  readonly breakerHalfOpenMs: number;
}

/** Analyst console sign-in (see README, Analyst console). */
export interface ConsoleSettings {
  /** Users with scrypt password hashes, managed by `npm run console-user`. */
  readonly usersFile?: string;
  /** Sign-in through an OpenID Connect provider instead of (or besides) the users file. */
  readonly oidc?: {
    readonly issuer: string;
    readonly clientId: string;
    readonly clientSecret?: string;
    /** ID token claim holding the roles (`analyst`, `admin`); a user with neither is refused. */
    readonly rolesClaim: string;
  };
  /** How long a session lasts from sign-in. */
  readonly sessionTtlMs: number;
  /** Failed sign-ins per user name and per address within 15 minutes before more are refused. */
  readonly loginMaxFailures: number;
}

/** Purging of archived messages and the FHIR versions they wrote. */
export interface RetentionSettings {
  readonly days: number;
  /** How often the purge job runs (a BullMQ repeatable job). */
  readonly intervalMs: number;
}

export interface Config {
  readonly mllp: {
    readonly host: string;
    readonly port: number;
    readonly tls?: { readonly certFile: string; readonly keyFile: string; readonly caFile?: string };
    /** undefined: every sender is accepted (a warning is logged at start). */
    readonly allowedSenders?: readonly AllowedSender[];
    readonly maxFrameBytes: number;
    readonly idleTimeoutMs: number;
    readonly maxConnections: number;
    /** Connections one peer address may hold, so one sender cannot take every slot. */
    readonly maxConnectionsPerPeer: number;
    /** A frame not finished this long after its start byte closes its connection (slowloris). */
    readonly frameTimeoutMs: number;
    /** Segments per message, and repetitions per field, above which a message gets AR. */
    readonly maxSegments: number;
    readonly maxRepetitions: number;
  };
  readonly http: {
    /** Interface HTTP binds; the APIs carry PHI, so a deployment may keep them off public NICs. */
    readonly host: string;
    readonly port: number;
    readonly publicUrl: string;
    /** HTTPS when set. */
    readonly tls?: { readonly certFile: string; readonly keyFile: string };
  };
  readonly cors: {
    /**
     * Origins a browser app may call `/auth/token` and `/fhir` from (CORS_ALLOWED_ORIGINS, plus
     * PUBLIC_URL's own origin, always). Discovery is open to every origin.
     */
    readonly allowedOrigins: readonly string[];
  };
  readonly redis: {
    readonly url: string;
    readonly prefix: string;
    /** Bound on connecting and on each command, so a stalled Redis gets an answer (AE, 503). */
    readonly timeoutMs: number;
  };
  readonly database: {
    readonly url?: string;
    readonly schema: string;
    readonly dataDir: string;
    /** Bound on connecting and on each query, so a stalled PostgreSQL gets an answer (AE, 503). */
    readonly timeoutMs: number;
  };
  readonly mappingsDir: string;
  /** IANA zone for HL7 times sent without an offset; a sender's `sender.yaml` overrides it. */
  readonly defaultTimezone: string;
  readonly smartClientsFile?: string;
  readonly ehrIssuersFile?: string;
  /** The SMART app's client id at the EHR (SMART_APP_CLIENT_ID); EHR tokens of other clients are not exchanged. */
  readonly smartAppClientId: string;
  /** Private ES256 JWK shared by every engine behind one URL; unset: generated at start. */
  readonly tokenSigningKeyFile?: string;
  readonly workerConcurrency: number;
  readonly identity: IdentitySettings;
  readonly notify: NotifySettings;
  readonly console: ConsoleSettings;
  readonly retention: RetentionSettings;
  /** Which parts this process runs: `all`, or one of `ingest`, `worker`, `http` when split. */
  readonly role: EngineRole;
  readonly logLevel: z.infer<typeof envSchema>['LOG_LEVEL'];
}

/** Thrown with every configuration problem listed, one per line. */
export class ConfigError extends CodedError<'config-invalid'> {
  override readonly name = 'ConfigError';
  readonly problems: readonly string[];
  constructor(problems: readonly string[]) {
    super('config-invalid', `invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.problems = problems;
  }
}

/** Parses `MLLP_ALLOWED_SENDERS`: `FAC` or `APP^FAC`, comma separated. */
export function parseAllowedSenders(raw: string): AllowedSender[] {
  return raw
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '')
    .map((s) => {
      const [first, second] = s.split('^');
      return second === undefined
        ? { facility: first ?? '' }
        : { application: first ?? '', facility: second };
    });
}

/**
 * Parses `CORS_ALLOWED_ORIGINS`: comma-separated origins, each `scheme://host[:port]` exactly
 * (what a browser sends in `Origin`), so a typo cannot silently allow nothing or too much.
 * @returns the origins, and a problem for each entry that is not one.
 */
export function parseCorsOrigins(raw: string | undefined): { origins: string[]; problems: string[] } {
  const origins: string[] = [];
  const problems: string[] = [];
  for (const entry of (raw ?? '').split(',').map((s) => s.trim())) {
    if (entry === '') continue;
    let origin: string | undefined;
    try {
      const url = new URL(entry);
      if (url.protocol === 'http:' || url.protocol === 'https:') origin = url.origin;
    } catch {
      origin = undefined;
    }
    if (origin === undefined || origin !== entry.replace(/\/$/, '').toLowerCase()) {
      problems.push(`CORS_ALLOWED_ORIGINS: "${entry}" is not an origin such as https://app.example.org`);
    } else origins.push(origin);
  }
  return { origins, problems };
}

/**
 * Parses the environment into a frozen Config.
 * @param env - usually process.env; tests pass their own object.
 */
export function loadConfig(env: Record<string, string | undefined>): Config {
  const parsed = envSchema.safeParse(env);
  if (!parsed.success) {
    throw new ConfigError(parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`));
  }
  const e = parsed.data;
  const problems: string[] = [];
  if ((e.MLLP_TLS_CERT === undefined) !== (e.MLLP_TLS_KEY === undefined)) {
    problems.push('MLLP_TLS_CERT and MLLP_TLS_KEY must be set together');
  }
  if ((e.HTTP_TLS_CERT === undefined) !== (e.HTTP_TLS_KEY === undefined)) {
    problems.push('HTTP_TLS_CERT and HTTP_TLS_KEY must be set together');
  }
  if (e.MLLP_TLS_CA !== undefined && e.MLLP_TLS_CERT === undefined) {
    problems.push('MLLP_TLS_CA needs MLLP_TLS_CERT and MLLP_TLS_KEY');
  }
  if (e.IDENTITY_REVIEW_THRESHOLD > e.IDENTITY_LINK_THRESHOLD) {
    problems.push('IDENTITY_REVIEW_THRESHOLD must not exceed IDENTITY_LINK_THRESHOLD');
  }
  let endpointPolicy: AddressPolicy = PUBLIC_ONLY_POLICY;
  try {
    endpointPolicy = parseAllowedHosts(e.ENDPOINT_ALLOWED_HOSTS);
  } catch (err) {
    problems.push(`ENDPOINT_ALLOWED_HOSTS: ${(err as Error).message}`);
  }
  const cors = parseCorsOrigins(e.CORS_ALLOWED_ORIGINS);
  problems.push(...cors.problems);
  const timezone = parseDefaultTimezone(e.DEFAULT_TIMEZONE);
  if ('problem' in timezone) problems.push(timezone.problem);
  if ((e.CONSOLE_OIDC_ISSUER === undefined) !== (e.CONSOLE_OIDC_CLIENT_ID === undefined)) {
    problems.push('CONSOLE_OIDC_ISSUER and CONSOLE_OIDC_CLIENT_ID must be set together');
  }
  if (problems.length > 0 || 'problem' in timezone) throw new ConfigError(problems);

  const tls =
    e.MLLP_TLS_CERT !== undefined && e.MLLP_TLS_KEY !== undefined
      ? {
          certFile: e.MLLP_TLS_CERT,
          keyFile: e.MLLP_TLS_KEY,
          ...(e.MLLP_TLS_CA !== undefined ? { caFile: e.MLLP_TLS_CA } : {}),
        }
      : undefined;
  const httpTls =
    e.HTTP_TLS_CERT !== undefined && e.HTTP_TLS_KEY !== undefined
      ? { certFile: e.HTTP_TLS_CERT, keyFile: e.HTTP_TLS_KEY }
      : undefined;
  const allowed =
    e.MLLP_ALLOWED_SENDERS !== undefined && e.MLLP_ALLOWED_SENDERS.trim() !== ''
      ? parseAllowedSenders(e.MLLP_ALLOWED_SENDERS)
      : undefined;

  const publicUrl = e.PUBLIC_URL ?? `${httpTls !== undefined ? 'https' : 'http'}://localhost:${e.HTTP_PORT}`;
  const config: Config = {
    mllp: {
      host: e.MLLP_HOST,
      port: e.MLLP_PORT,
      ...(tls !== undefined ? { tls } : {}),
      ...(allowed !== undefined ? { allowedSenders: allowed } : {}),
      maxFrameBytes: e.MLLP_MAX_FRAME_BYTES,
      idleTimeoutMs: e.MLLP_IDLE_TIMEOUT_MS,
      maxConnections: e.MLLP_MAX_CONNECTIONS,
      maxConnectionsPerPeer: e.MLLP_MAX_CONNECTIONS_PER_PEER,
      frameTimeoutMs: e.MLLP_FRAME_TIMEOUT_MS,
      maxSegments: e.MLLP_MAX_SEGMENTS,
      maxRepetitions: e.MLLP_MAX_REPETITIONS,
    },
    http: {
      host: e.HTTP_HOST,
      port: e.HTTP_PORT,
      publicUrl,
      ...(httpTls !== undefined ? { tls: httpTls } : {}),
    },
    cors: { allowedOrigins: [...new Set([new URL(publicUrl).origin, ...cors.origins])] },
    redis: { url: e.REDIS_URL, prefix: e.QUEUE_PREFIX, timeoutMs: e.REDIS_TIMEOUT_MS },
    database: {
      ...(e.DATABASE_URL !== undefined ? { url: e.DATABASE_URL } : {}),
      schema: e.DATABASE_SCHEMA,
      dataDir: e.DATA_DIR,
      timeoutMs: e.DATABASE_TIMEOUT_MS,
    },
    mappingsDir: e.MAPPINGS_DIR,
    defaultTimezone: timezone.zone,
    ...(e.SMART_CLIENTS_FILE !== undefined ? { smartClientsFile: e.SMART_CLIENTS_FILE } : {}),
    ...(e.EHR_ISSUERS_FILE !== undefined ? { ehrIssuersFile: e.EHR_ISSUERS_FILE } : {}),
    smartAppClientId: e.SMART_APP_CLIENT_ID,
    ...(e.TOKEN_SIGNING_KEY_FILE !== undefined ? { tokenSigningKeyFile: e.TOKEN_SIGNING_KEY_FILE } : {}),
    workerConcurrency: e.WORKER_CONCURRENCY,
    identity: {
      linkThreshold: e.IDENTITY_LINK_THRESHOLD,
      reviewThreshold: e.IDENTITY_REVIEW_THRESHOLD,
      certainIdentifierTypes: e.IDENTITY_CERTAIN_IDENTIFIER_TYPES.split(',').filter((t) => t !== ''),
    },
    notify: {
      endpointPolicy,
      timeoutMs: e.NOTIFY_TIMEOUT_MS,
      retryBaseMs: e.NOTIFY_RETRY_BASE_MS,
      retryMaxMs: e.NOTIFY_RETRY_MAX_MS,
      maxAttempts: e.NOTIFY_MAX_ATTEMPTS,
      breakerFailures: e.NOTIFY_BREAKER_FAILURES,
      breakerHalfOpenMs: e.NOTIFY_BREAKER_HALF_OPEN_MS,
    },
    console: {
      ...(e.CONSOLE_USERS_FILE !== undefined ? { usersFile: e.CONSOLE_USERS_FILE } : {}),
      ...(e.CONSOLE_OIDC_ISSUER !== undefined && e.CONSOLE_OIDC_CLIENT_ID !== undefined
        ? {
            oidc: {
              issuer: e.CONSOLE_OIDC_ISSUER,
              clientId: e.CONSOLE_OIDC_CLIENT_ID,
              ...(e.CONSOLE_OIDC_CLIENT_SECRET !== undefined
                ? { clientSecret: e.CONSOLE_OIDC_CLIENT_SECRET }
                : {}),
              rolesClaim: e.CONSOLE_OIDC_ROLES_CLAIM,
            },
          }
        : {}),
      sessionTtlMs: e.CONSOLE_SESSION_HOURS * 3_600_000,
      loginMaxFailures: e.CONSOLE_LOGIN_MAX_FAILURES,
    },
    retention: { days: e.RETENTION_DAYS, intervalMs: e.RETENTION_INTERVAL_MS },
    role: e.ENGINE_ROLE,
    logLevel: e.LOG_LEVEL,
  };
  return deepFreeze(config);
}

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object') {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}
