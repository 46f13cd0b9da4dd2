/**
 * The registry of SMART Backend Services clients, read from `SMART_CLIENTS_FILE`. The file is
 * edited by hand, so every problem in it is reported at once with its location and the file name.
 */
import { CodedError } from '../errors/coded-error';
import { createPublicKey, type JsonWebKey } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { createLocalJWKSet, type JSONWebKeySet, type JWK, type LocalJWKSet } from 'jose';
import { z } from 'zod';
import { parseScope, splitScopes } from './scope-grant';

/** One registered system client. */
export interface SmartClient {
  readonly clientId: string;
  /** Public keys the client signs its assertions with. */
  readonly jwks: JSONWebKeySet;
  /** Registered `system/...` scopes: the most any token for this client can carry. */
  readonly scopes: readonly string[];
}

/** A registered client with its key set ready for verification. */
export interface RegisteredClient extends SmartClient {
  readonly keySet: LocalJWKSet;
}

/** Looks clients up by ID. */
export interface SmartClientRegistry {
  readonly clients: readonly SmartClient[];
  /** undefined when no client has this ID. */
  find(clientId: string): RegisteredClient | undefined;
}

/** The clients file is missing, unreadable or invalid; `problems` lists every issue found. */
export class SmartClientsError extends CodedError<'smart-clients-invalid'> {
  override readonly name = 'SmartClientsError';
  readonly file: string;
  readonly problems: readonly string[];

  /**
   * @param file - the file (or in-memory source name) the problems were found in.
   * @param problems - one line each, prefixed with the JSON location.
   */
  constructor(file: string, problems: readonly string[], options?: ErrorOptions) {
    super(
      'smart-clients-invalid',
      `invalid SMART clients file ${file}:\n${problems.map((p) => `  - ${p}`).join('\n')}`,
      options,
    );
    this.file = file;
    this.problems = problems;
  }
}

/** JWK members that carry private or symmetric key material. */
const SECRET_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k'] as const;

const jwkSchema = z
  .looseObject({
    kty: z.enum(['EC', 'RSA'], { message: 'kty must be "EC" (ES384) or "RSA" (RS384)' }),
    kid: z.string().min(1).optional(),
    alg: z.enum(['ES384', 'RS384'], { message: 'alg, when given, must be ES384 or RS384' }).optional(),
    crv: z.string().optional(),
    use: z.literal('sig', { message: 'use, when given, must be "sig"' }).optional(),
  })
  .superRefine((jwk, ctx) => {
    for (const member of SECRET_MEMBERS) {
      if (member in jwk) {
        ctx.addIssue({
          code: 'custom',
          message: `contains private member "${member}": register public keys only`,
        });
        return;
      }
    }
    if (jwk.kty === 'EC' && jwk.crv !== 'P-384') {
      ctx.addIssue({ code: 'custom', message: 'EC keys must use crv "P-384" (ES384)' });
      return;
    }
    if (jwk.alg !== undefined && (jwk.alg === 'ES384') !== (jwk.kty === 'EC')) {
      ctx.addIssue({ code: 'custom', message: `alg ${jwk.alg} does not match kty ${jwk.kty}` });
      return;
    }
    try {
      // zod's parsed shape carries optional members as `| undefined`; node reads it as a plain JWK.
      createPublicKey({ key: jwk as JsonWebKey, format: 'jwk' });
    } catch (err) {
      ctx.addIssue({ code: 'custom', message: `not a usable public key (${(err as Error).message})` });
    }
  });

const scopeSchema = z
  .string({
    error: (i) => (i.input === undefined ? 'scope is required' : 'scope must be a space-separated string'),
  })
  .superRefine((scope, ctx) => {
    const scopes = splitScopes(scope);
    if (scopes.length === 0) ctx.addIssue({ code: 'custom', message: 'scope must list at least one scope' });
    for (const s of scopes) {
      if (parseScope(s)?.context !== 'system') {
        ctx.addIssue({
          code: 'custom',
          message: `"${s}" is not a system scope such as system/*.rs or system/Patient.read (filters with ? are not supported)`,
        });
      }
    }
  });

const clientSchema = z.object({
  client_id: z
    .string({
      error: (i) => (i.input === undefined ? 'client_id is required' : 'client_id must be a string'),
    })
    .min(1, 'client_id must not be empty'),
  jwks: z.object(
    { keys: z.array(jwkSchema, { message: 'jwks.keys must be an array' }).min(1, 'jwks.keys is empty') },
    { error: (i) => (i.input === undefined ? 'jwks is required' : 'jwks must be an object {"keys": [...]}') },
  ),
  scope: scopeSchema,
});

const fileSchema = z.array(clientSchema, { message: 'the file must hold a JSON array of clients' });

/** Checked apart from the schema so duplicates are reported even when other entries are invalid. */
function findDuplicateIds(data: unknown): string[] {
  if (!Array.isArray(data)) return [];
  const seen = new Set<string>();
  const problems: string[] = [];
  data.forEach((entry: unknown, i) => {
    const id: unknown =
      typeof entry === 'object' && entry !== null ? Reflect.get(entry, 'client_id') : undefined;
    if (typeof id !== 'string' || id === '') return;
    if (seen.has(id)) problems.push(`[${i}].client_id: duplicate client_id "${id}"`);
    seen.add(id);
  });
  return problems;
}

function formatPath(path: readonly PropertyKey[]): string {
  const text = path.map((p) => (typeof p === 'number' ? `[${p}]` : `.${String(p)}`)).join('');
  return text === '' ? '(root)' : text.replace(/^\./, '');
}

/**
 * Validates clients in the file's JSON shape.
 * @param data - the parsed JSON (or an in-memory list in the same shape, for tests).
 * @param source - named in errors: the file path, or a label for in-memory lists.
 * @throws SmartClientsError listing every problem.
 */
export function parseSmartClients(data: unknown, source: string): SmartClient[] {
  const parsed = fileSchema.safeParse(data);
  const problems = [
    ...(parsed.success ? [] : parsed.error.issues.map((i) => `${formatPath(i.path)}: ${i.message}`)),
    ...findDuplicateIds(data),
  ];
  if (!parsed.success || problems.length > 0) throw new SmartClientsError(source, problems);
  return parsed.data.map((c) => ({
    clientId: c.client_id,
    jwks: { keys: c.jwks.keys as JWK[] },
    scopes: splitScopes(c.scope),
  }));
}

/**
 * Reads and validates the clients file.
 * @param file - path from `SMART_CLIENTS_FILE`.
 * @throws SmartClientsError when the file cannot be read, is not JSON, or is invalid.
 */
export async function loadSmartClients(file: string): Promise<SmartClient[]> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw new SmartClientsError(file, [`cannot read the file: ${(err as Error).message}`], { cause: err });
  }
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (err) {
    throw new SmartClientsError(file, [`not valid JSON: ${(err as Error).message}`], { cause: err });
  }
  return parseSmartClients(data, file);
}

/**
 * Indexes clients by ID and prepares their key sets.
 * @param clients - validated clients, e.g. from `loadSmartClients` or `parseSmartClients`.
 */
export function createSmartClientRegistry(clients: readonly SmartClient[]): SmartClientRegistry {
  const byId = new Map<string, RegisteredClient>(
    clients.map((c) => [c.clientId, { ...c, keySet: createLocalJWKSet(c.jwks) }]),
  );
  return { clients, find: (clientId) => byId.get(clientId) };
}

/**
 * The registry for a deployment: the file's clients, or none when `SMART_CLIENTS_FILE` is unset
 * (then every token request fails with invalid_client).
 * @param file - `config.smartClientsFile`.
 */
export async function loadSmartClientRegistry(file: string | undefined): Promise<SmartClientRegistry> {
  return createSmartClientRegistry(file === undefined ? [] : await loadSmartClients(file));
}
