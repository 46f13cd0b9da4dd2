import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { exportJWK, generateKeyPair } from 'jose';
import { describe, expect, it } from 'vitest';
import { loadTokenSigningKey } from '../../engine/src/auth/token-signing-key';
import { createTokenService } from '../../engine/src/auth/token-service';

const dir = mkdtempSync(join(tmpdir(), 'signing-key-'));

describe('TOKEN_SIGNING_KEY_FILE', () => {
  it('lets two engines sharing the key accept each other tokens', async () => {
    const { privateKey } = await generateKeyPair('ES256', { extractable: true });
    const file = join(dir, 'key.json');
    writeFileSync(file, JSON.stringify(await exportJWK(privateKey)));
    const a = await createTokenService({ issuer: 'http://x', keyPair: await loadTokenSigningKey(file) });
    const b = await createTokenService({ issuer: 'http://x', keyPair: await loadTokenSigningKey(file) });
    const token = await a.issue({ clientId: 'c', scopes: ['system/*.rs'] });
    expect(await b.verify(token.access_token)).toMatchObject({ clientId: 'c', scopes: ['system/*.rs'] });
    const stranger = await createTokenService({ issuer: 'http://x' });
    await expect(stranger.verify(token.access_token)).rejects.toMatchObject({ code: 'token-bad-signature' });
  });

  it('refuses a public key, a wrong curve or unreadable JSON, naming the file', async () => {
    const { publicKey } = await generateKeyPair('ES256', { extractable: true });
    const pub = join(dir, 'public.json');
    writeFileSync(pub, JSON.stringify(await exportJWK(publicKey)));
    await expect(loadTokenSigningKey(pub)).rejects.toMatchObject({ code: 'token-signing-key-invalid' });
    const junk = join(dir, 'junk.json');
    writeFileSync(junk, 'not json');
    await expect(loadTokenSigningKey(junk)).rejects.toThrow(/junk\.json/);
  });
});
