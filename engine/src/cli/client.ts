/**
 * `npm run client`: the first SMART Backend Services client for a new installation, so a person
 * can call the admin and FHIR APIs without writing JWT code. `create` writes a key pair and the
 * clients file; `token` signs an assertion and prints a bearer token.
 */
import { randomUUID } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { exportJWK, generateKeyPair, importJWK, type JWK } from 'jose';
import { requestSystemToken } from '../auth/request-system-token';
import { loadConfig } from '../config/schema';

const USAGE = `usage:
  npm run client -- create [--dir ./data] [--id local-admin] [--scope "system/*.rs system/Message.rus"]
  npm run client -- token  [--dir ./data] [--url $PUBLIC_URL] [--scope "system/*.rs system/Message.rus"]
(--url defaults to the engine's PUBLIC_URL: http://localhost:$HTTP_PORT, https with HTTP_TLS_CERT/KEY)`;

interface KeyFile {
  readonly client_id: string;
  readonly jwk: JWK;
}

const files = (dir: string): { clients: string; key: string } => ({
  clients: path.join(dir, 'smart-clients.json'),
  key: path.join(dir, 'smart-client-key.json'),
});

async function create(dir: string, clientId: string, scope: string): Promise<void> {
  const { privateKey, publicKey } = await generateKeyPair('ES384', { extractable: true });
  const kid = randomUUID();
  const pub = { ...(await exportJWK(publicKey)), kid, alg: 'ES384', use: 'sig' };
  const priv = { ...(await exportJWK(privateKey)), kid, alg: 'ES384' };
  const f = files(dir);
  mkdirSync(dir, { recursive: true });
  writeFileSync(f.clients, JSON.stringify([{ client_id: clientId, jwks: { keys: [pub] }, scope }], null, 2));
  writeFileSync(f.key, JSON.stringify({ client_id: clientId, jwk: priv } satisfies KeyFile), { mode: 0o600 });
  process.stdout.write(
    `wrote ${f.clients} (register it: SMART_CLIENTS_FILE=${f.clients} npm start)\n` +
      `wrote ${f.key} (the private key: keep it out of version control)\n`,
  );
}

/**
 * The URL the engine advertises, derived by the engine's own rule from the same environment
 * (PUBLIC_URL, else localhost on HTTP_PORT), so `npm start` and this command cannot disagree.
 */
function engineUrl(): string {
  return loadConfig(process.env).http.publicUrl;
}

function readKeyFile(dir: string): KeyFile {
  const keyPath = files(dir).key;
  try {
    return JSON.parse(readFileSync(keyPath, 'utf8')) as KeyFile;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new Error(
        `error: no client key at ${keyPath}; run \`npm run client -- create\` first or pass --dir`,
      );
    }
    throw err;
  }
}

/** What went wrong below fetch's bare "fetch failed": ECONNREFUSED, ENOTFOUND, a TLS code … */
function networkCause(err: TypeError): string {
  const cause = err.cause as { code?: unknown; message?: unknown; errors?: { code?: unknown }[] } | undefined;
  const code = cause?.code ?? cause?.errors?.[0]?.code;
  if (typeof code === 'string') return code;
  return typeof cause?.message === 'string' ? cause.message : err.message;
}

async function token(dir: string, url: string, scope: string): Promise<void> {
  const keyFile = readKeyFile(dir);
  const tokenUrl = `${url.replace(/\/$/, '')}/auth/token`;
  const accessToken = await requestSystemToken({
    tokenUrl,
    clientId: keyFile.client_id,
    privateKey: await importJWK(keyFile.jwk, 'ES384'),
    kid: keyFile.jwk.kid ?? '',
    scope,
  }).catch((err: unknown) => {
    // fetch rejects with a TypeError for every network failure, the URL and the reason in `cause`.
    if (err instanceof TypeError && err.message === 'fetch failed') {
      const cause = networkCause(err);
      const hint = /CERT|SELF_SIGNED|SSL|TLS/i.test(cause)
        ? 'trust its certificate with NODE_EXTRA_CA_CERTS'
        : 'is it running? set PUBLIC_URL or --url';
      throw new Error(`error: cannot reach the engine at ${tokenUrl} (${cause}); ${hint}`);
    }
    // Something answered, but not with the engine's JSON: most likely another service on that port.
    if (err instanceof SyntaxError) {
      throw new Error(
        `error: ${tokenUrl} did not answer as the engine does (${err.message}); set PUBLIC_URL or --url`,
      );
    }
    // The engine answered and said no (unknown client, wrong audience, scope): say which engine.
    if (err instanceof Error && err.message.startsWith('token request refused')) {
      throw new Error(`error: ${tokenUrl}: ${err.message}`);
    }
    throw err;
  });
  process.stdout.write(`${accessToken}\n`);
}

async function main(): Promise<void> {
  const { positionals, values } = parseArgs({
    allowPositionals: true,
    options: {
      dir: { type: 'string', default: './data' },
      id: { type: 'string', default: 'local-admin' },
      url: { type: 'string' },
      scope: { type: 'string', default: 'system/*.rs system/Message.rus' },
    },
  });
  const command = positionals[0];
  if (command === 'create') await create(values.dir, values.id, values.scope);
  else if (command === 'token') await token(values.dir, values.url ?? engineUrl(), values.scope);
  else throw new Error(USAGE);
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
