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

const USAGE = `usage:
  npm run client -- create [--dir ./data] [--id local-admin] [--scope "system/*.rs system/Message.rus"]
  npm run client -- token  [--dir ./data] [--url http://localhost:8080] [--scope "system/*.rs system/Message.rus"]`;

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

async function token(dir: string, url: string, scope: string): Promise<void> {
  const keyFile = JSON.parse(readFileSync(files(dir).key, 'utf8')) as KeyFile;
  const accessToken = await requestSystemToken({
    tokenUrl: `${url.replace(/\/$/, '')}/auth/token`,
    clientId: keyFile.client_id,
    privateKey: await importJWK(keyFile.jwk, 'ES384'),
    kid: keyFile.jwk.kid ?? '',
    scope,
  });
  process.stdout.write(`${accessToken}\n`);
}

async function main(): Promise<void> {
  const { positionals, values } = parseArgs({
    allowPositionals: true,
    options: {
      dir: { type: 'string', default: './data' },
      id: { type: 'string', default: 'local-admin' },
      url: { type: 'string', default: process.env['PUBLIC_URL'] ?? 'http://localhost:8080' },
      scope: { type: 'string', default: 'system/*.rs system/Message.rus' },
    },
  });
  const command = positionals[0];
  if (command === 'create') await create(values.dir, values.id, values.scope);
  else if (command === 'token') await token(values.dir, values.url, values.scope);
  else throw new Error(USAGE);
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
