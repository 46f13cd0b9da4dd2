/**
 * The EHRs whose access tokens the engine exchanges, read from `EHR_ISSUERS_FILE` at start. The
 * file holds credentials for each EHR's introspection endpoint and is edited by hand, so every
 * problem is reported at once, with its location, before the engine serves anything; a secret
 * never appears in a message.
 */
import { readFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { importJWK, type CryptoKey, type JWK } from 'jose';
import { z } from 'zod';
import { CodedError } from '../errors/coded-error';

/** How the engine authenticates to an EHR's introspection endpoint. */
export type IntrospectionAuth =
  | { readonly method: 'client_secret_basic'; readonly clientId: string; readonly clientSecret: string }
  | {
      readonly method: 'private_key_jwt';
      readonly clientId: string;
      readonly key: CryptoKey;
      readonly alg: PrivateKeyAlg;
      readonly kid?: string;
    }
  /** A token the EHR issued to the engine as a resource server. */
  | { readonly method: 'bearer'; readonly token: string };

/** Algorithms a `private_key_jwt` key may sign with (SMART asks for ES384 or RS384). */
export const PRIVATE_KEY_ALGS = ['ES384', 'RS384', 'ES256', 'RS256'] as const;
export type PrivateKeyAlg = (typeof PRIVATE_KEY_ALGS)[number];

/** One EHR. */
export interface EhrIssuer {
  /** The EHR's FHIR base URL, without a trailing slash: `iss` of its launches. */
  readonly iss: string;
  /** Unset: discovered from `<iss>/.well-known/smart-configuration`. */
  readonly introspectionEndpoint?: string;
  readonly auth: IntrospectionAuth;
  /**
   * The care-timeline app's client id at this EHR, when it differs from SMART_APP_CLIENT_ID: an
   * EHR token issued to another client is not exchanged.
   */
  readonly appClientId?: string;
}

export interface EhrIssuerRegistry {
  readonly issuers: readonly EhrIssuer[];
  /** The issuer for `iss` (a trailing slash is ignored); undefined when not listed. */
  find(iss: string): EhrIssuer | undefined;
}

/** The issuers file is missing, unreadable or invalid; `problems` lists every issue found. */
export class EhrIssuersError extends CodedError<'ehr-issuers-invalid'> {
  override readonly name = 'EhrIssuersError';
  readonly file: string;
  readonly problems: readonly string[];

  /**
   * @param file - the file (or in-memory source name) the problems were found in.
   * @param problems - one line each, prefixed with the JSON location.
   */
  constructor(file: string, problems: readonly string[], options?: ErrorOptions) {
    super(
      'ehr-issuers-invalid',
      `invalid EHR issuers file ${file}:\n${problems.map((p) => `  - ${p}`).join('\n')}`,
      options,
    );
    this.file = file;
    this.problems = problems;
  }
}

const LOOPBACK_HOSTS: ReadonlySet<string> = new Set(['localhost', '127.0.0.1', '[::1]']);

/**
 * True for `https:` URLs, and `http:` ones on a loopback host (a test or a sandbox on the same
 * machine): an EHR token travels to these URLs, so never in clear over a network.
 */
export function isSecureEhrUrl(text: string): boolean {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return false;
  }
  if (url.username !== '' || url.password !== '' || url.search !== '' || url.hash !== '') return false;
  return url.protocol === 'https:' || (url.protocol === 'http:' && LOOPBACK_HOSTS.has(url.hostname));
}

/** A URL without trailing slashes, as issuers are compared. */
export const normalizeIssuer = (iss: string): string => iss.replace(/\/+$/, '');

const nonEmpty = (name: string): z.ZodString =>
  z
    .string({ error: (i) => (i.input === undefined ? `${name} is required` : `${name} must be a string`) })
    .min(1, `${name} must not be empty`);

const ehrUrl = (name: string): z.ZodType<string> =>
  nonEmpty(name).refine(isSecureEhrUrl, {
    message: `${name} must be an https URL (http only on a loopback host), without credentials, query or fragment`,
  });

const authSchema = z.discriminatedUnion(
  'method',
  [
    z.strictObject({
      method: z.literal('client_secret_basic'),
      client_id: nonEmpty('client_id'),
      client_secret: nonEmpty('client_secret'),
    }),
    z.strictObject({
      method: z.literal('private_key_jwt'),
      client_id: nonEmpty('client_id'),
      key_file: nonEmpty('key_file'),
    }),
    z.strictObject({ method: z.literal('bearer'), token: nonEmpty('token') }),
  ],
  {
    error: (i) =>
      i.input === undefined
        ? 'introspection_auth is required'
        : 'introspection_auth.method must be "client_secret_basic", "private_key_jwt" or "bearer"',
  },
);

const issuerSchema = z.strictObject({
  iss: ehrUrl('iss'),
  introspection_endpoint: ehrUrl('introspection_endpoint').optional(),
  introspection_auth: authSchema,
  app_client_id: nonEmpty('app_client_id').optional(),
});

const fileSchema = z.array(issuerSchema, { message: 'the file must hold a JSON array of issuers' });

type RawIssuer = z.infer<typeof issuerSchema>;

function formatPath(path: readonly PropertyKey[]): string {
  const text = path.map((p) => (typeof p === 'number' ? `[${p}]` : `.${String(p)}`)).join('');
  return text === '' ? '(root)' : text.replace(/^\./, '');
}

/** Checked apart from the schema so duplicates are reported even when other entries are invalid. */
function findDuplicateIssuers(data: unknown): string[] {
  if (!Array.isArray(data)) return [];
  const seen = new Set<string>();
  const problems: string[] = [];
  data.forEach((entry: unknown, i) => {
    const iss: unknown = typeof entry === 'object' && entry !== null ? Reflect.get(entry, 'iss') : undefined;
    if (typeof iss !== 'string' || iss === '') return;
    const key = normalizeIssuer(iss);
    if (seen.has(key)) problems.push(`[${i}].iss: duplicate issuer "${key}"`);
    seen.add(key);
  });
  return problems;
}

/** The signing algorithm of a private JWK: its own `alg`, else the usual one for its curve or type. */
function algOf(jwk: JWK): string {
  if (jwk.alg !== undefined) return jwk.alg;
  if (jwk.kty === 'RSA') return 'RS384';
  if (jwk.kty === 'EC' && jwk.crv === 'P-384') return 'ES384';
  if (jwk.kty === 'EC' && jwk.crv === 'P-256') return 'ES256';
  return `${jwk.kty ?? '?'}${jwk.crv !== undefined ? ` ${jwk.crv}` : ''}`;
}

const isPrivateKeyAlg = (alg: string): alg is PrivateKeyAlg =>
  (PRIVATE_KEY_ALGS as readonly string[]).includes(alg);

/**
 * Reads a private JWK for `private_key_jwt`.
 * @returns the key, or a problem (without key material) for the issuers error.
 */
async function loadPrivateKey(
  file: string,
): Promise<{ key: CryptoKey; alg: PrivateKeyAlg; kid?: string } | { problem: string }> {
  let jwk: JWK;
  try {
    jwk = JSON.parse(await readFile(file, 'utf8')) as JWK;
  } catch (err) {
    return { problem: `${file}: not readable JSON (${err instanceof Error ? err.message : String(err)})` };
  }
  if (typeof jwk !== 'object' || jwk === null || typeof jwk.d !== 'string') {
    return { problem: `${file}: must be a private JWK (with "d")` };
  }
  const alg = algOf(jwk);
  if (!isPrivateKeyAlg(alg)) {
    return {
      problem: `${file}: signs with ${alg}; use ${PRIVATE_KEY_ALGS.join(', ')} (EC P-384/P-256 or RSA)`,
    };
  }
  try {
    const key = (await importJWK(jwk, alg)) as CryptoKey;
    return { key, alg, ...(typeof jwk.kid === 'string' ? { kid: jwk.kid } : {}) };
  } catch (err) {
    return {
      problem: `${file}: not a usable ${alg} key (${err instanceof Error ? err.message : String(err)})`,
    };
  }
}

async function toIssuer(
  raw: RawIssuer,
  baseDir: string,
  at: string,
  problems: string[],
): Promise<EhrIssuer | undefined> {
  const a = raw.introspection_auth;
  let auth: IntrospectionAuth;
  if (a.method === 'private_key_jwt') {
    const loaded = await loadPrivateKey(resolve(baseDir, a.key_file));
    if ('problem' in loaded) {
      problems.push(`${at}.introspection_auth.key_file: ${loaded.problem}`);
      return undefined;
    }
    auth = { method: a.method, clientId: a.client_id, ...loaded };
  } else if (a.method === 'client_secret_basic') {
    auth = { method: a.method, clientId: a.client_id, clientSecret: a.client_secret };
  } else {
    auth = { method: a.method, token: a.token };
  }
  return {
    iss: normalizeIssuer(raw.iss),
    ...(raw.introspection_endpoint !== undefined
      ? { introspectionEndpoint: raw.introspection_endpoint }
      : {}),
    auth,
    ...(raw.app_client_id !== undefined ? { appClientId: raw.app_client_id } : {}),
  };
}

/**
 * Validates issuers in the file's JSON shape and loads their keys.
 * @param data - the parsed JSON.
 * @param source - named in errors: the file path, or a label for in-memory lists.
 * @param baseDir - relative `key_file` paths are resolved against it (the file's directory).
 * @throws EhrIssuersError listing every problem.
 */
export async function parseEhrIssuers(data: unknown, source: string, baseDir: string): Promise<EhrIssuer[]> {
  const parsed = fileSchema.safeParse(data);
  const problems = [
    // A value the file got wrong is named, never echoed: it may be a secret.
    ...(parsed.success ? [] : parsed.error.issues.map((i) => `${formatPath(i.path)}: ${i.message}`)),
    ...findDuplicateIssuers(data),
  ];
  const issuers: EhrIssuer[] = [];
  if (parsed.success) {
    for (const [i, raw] of parsed.data.entries()) {
      const issuer = await toIssuer(raw, baseDir, `[${i}]`, problems);
      if (issuer !== undefined) issuers.push(issuer);
    }
  }
  if (problems.length > 0) throw new EhrIssuersError(source, problems);
  return issuers;
}

/**
 * Reads and validates the issuers file.
 * @param file - path from `EHR_ISSUERS_FILE`.
 * @throws EhrIssuersError when the file cannot be read, is not JSON, or is invalid.
 */
export async function loadEhrIssuers(file: string): Promise<EhrIssuer[]> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw new EhrIssuersError(file, [`cannot read the file: ${(err as Error).message}`], { cause: err });
  }
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (err) {
    throw new EhrIssuersError(file, [`not valid JSON: ${(err as Error).message}`], { cause: err });
  }
  return parseEhrIssuers(data, file, dirname(resolve(file)));
}

/** Indexes issuers by `iss`. */
export function createEhrIssuerRegistry(issuers: readonly EhrIssuer[]): EhrIssuerRegistry {
  const byIss = new Map(issuers.map((i) => [i.iss, i]));
  return { issuers, find: (iss) => byIss.get(normalizeIssuer(iss)) };
}

/**
 * The registry for a deployment: the file's issuers, or none when `EHR_ISSUERS_FILE` is unset
 * (then every exchange is refused as from an unknown issuer).
 * @param file - `config.ehrIssuersFile`.
 */
export async function loadEhrIssuerRegistry(file: string | undefined): Promise<EhrIssuerRegistry> {
  return createEhrIssuerRegistry(file === undefined ? [] : await loadEhrIssuers(file));
}
