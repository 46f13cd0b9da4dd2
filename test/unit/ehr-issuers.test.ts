// The EHR issuers file is edited by hand and holds credentials: every mistake is reported, named
// and located at start, and no secret is ever echoed back.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { exportJWK, generateKeyPair } from 'jose';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  createEhrIssuerRegistry,
  EhrIssuersError,
  isSecureEhrUrl,
  loadEhrIssuers,
  parseEhrIssuers,
} from '../../engine/src/auth/ehr-issuers';

let dir: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'ehr-issuers-unit-'));
  const ec = await generateKeyPair('ES384', { extractable: true });
  const rsa = await generateKeyPair('RS384', { extractable: true });
  writeFileSync(join(dir, 'ec.json'), JSON.stringify({ ...(await exportJWK(ec.privateKey)), kid: 'k1' }));
  writeFileSync(join(dir, 'rsa.json'), JSON.stringify(await exportJWK(rsa.privateKey)));
  writeFileSync(join(dir, 'public.json'), JSON.stringify(await exportJWK(ec.publicKey)));
  writeFileSync(join(dir, 'broken.json'), '{not json');
});

async function problemsOf(data: unknown): Promise<readonly string[]> {
  try {
    await parseEhrIssuers(data, 'issuers.json', dir);
  } catch (err) {
    expect(err).toBeInstanceOf(EhrIssuersError);
    const e = err as EhrIssuersError;
    expect(e.code).toBe('ehr-issuers-invalid');
    expect(e.message).toContain('issuers.json');
    return e.problems;
  }
  throw new Error('expected the issuers to be rejected');
}

describe('parseEhrIssuers', () => {
  it('accepts the three introspection authentication methods', async () => {
    const issuers = await parseEhrIssuers(
      [
        {
          iss: 'https://ehr-a.example/fhir/',
          introspection_endpoint: 'https://ehr-a.example/introspect',
          introspection_auth: { method: 'client_secret_basic', client_id: 'engine', client_secret: 's3cret' },
        },
        {
          iss: 'https://ehr-b.example/fhir',
          introspection_auth: { method: 'private_key_jwt', client_id: 'engine', key_file: 'ec.json' },
          app_client_id: 'timeline-at-b',
        },
        {
          iss: 'http://127.0.0.1:9000/fhir',
          introspection_auth: {
            method: 'private_key_jwt',
            client_id: 'engine',
            key_file: join(dir, 'rsa.json'),
          },
        },
        { iss: 'https://ehr-d.example/fhir', introspection_auth: { method: 'bearer', token: 'rs-token' } },
      ],
      'issuers.json',
      dir,
    );
    expect(issuers.map((i) => [i.iss, i.auth.method])).toEqual([
      ['https://ehr-a.example/fhir', 'client_secret_basic'],
      ['https://ehr-b.example/fhir', 'private_key_jwt'],
      ['http://127.0.0.1:9000/fhir', 'private_key_jwt'],
      ['https://ehr-d.example/fhir', 'bearer'],
    ]);
    const b = issuers[1]?.auth;
    expect(b?.method === 'private_key_jwt' ? [b.alg, b.kid] : []).toEqual(['ES384', 'k1']);
    const c = issuers[2]?.auth;
    expect(c?.method === 'private_key_jwt' ? c.alg : undefined).toBe('RS384');
    expect(issuers[1]?.appClientId).toBe('timeline-at-b');
    expect(issuers[1]?.introspectionEndpoint).toBeUndefined();
    const registry = createEhrIssuerRegistry(issuers);
    expect(registry.find('https://ehr-a.example/fhir/')?.iss).toBe('https://ehr-a.example/fhir');
    expect(registry.find('https://ehr-a.example')).toBeUndefined();
  });

  it('reports every problem at once, located, without echoing a secret', async () => {
    const problems = await problemsOf([
      { introspection_auth: { method: 'bearer', token: 'tok' } },
      { iss: 'http://ehr.example/fhir', introspection_auth: { method: 'bearer', token: 'tok' } },
      {
        iss: 'https://ehr.example/fhir',
        introspection_auth: { method: 'client_secret_post', client_id: 'x' },
      },
      {
        iss: 'https://ehr.example/fhir/',
        introspection_auth: { method: 'client_secret_basic', client_id: 'x' },
      },
      {
        iss: 'https://e.example/fhir',
        introspection_endpont: 'https://e.example/introspect',
        introspection_auth: { method: 'bearer', token: 'TOPSECRET-1' },
      },
      {
        iss: 'https://f.example/fhir',
        introspection_endpoint: 'https://u:TOPSECRET-2@f.example/i',
        introspection_auth: { method: 'bearer', token: 't' },
      },
    ]);
    expect(problems).toEqual(
      expect.arrayContaining([
        '[0].iss: iss is required',
        expect.stringMatching(/^\[1\]\.iss: iss must be an https URL/),
        expect.stringMatching(/^\[2\]\.introspection_auth(\.method)?: .*client_secret_basic/),
        '[3].introspection_auth.client_secret: client_secret is required',
        expect.stringMatching(/^\[4\].*introspection_endpont/),
        expect.stringMatching(/^\[5\]\.introspection_endpoint: /),
        '[3].iss: duplicate issuer "https://ehr.example/fhir"',
      ]),
    );
    expect(problems.join('\n')).not.toContain('TOPSECRET');
  });

  it('checks key files: readable, JSON, a private key of a usable algorithm', async () => {
    const entry = (keyFile: string): unknown => ({
      iss: `https://${keyFile.replace(/\W/g, '')}.example/fhir`,
      introspection_auth: { method: 'private_key_jwt', client_id: 'engine', key_file: keyFile },
    });
    const problems = await problemsOf([entry('missing.json'), entry('broken.json'), entry('public.json')]);
    expect(problems).toHaveLength(3);
    expect(problems[0]).toMatch(/^\[0\]\.introspection_auth\.key_file: .*missing\.json: not readable JSON/);
    expect(problems[1]).toMatch(/^\[1\]\.introspection_auth\.key_file: .*broken\.json: not readable JSON/);
    expect(problems[2]).toMatch(/public\.json: must be a private JWK/);
    expect(problems.join('\n')).not.toMatch(/"d"\s*:/);
  });

  it('refuses a file that is not an array, and names an unreadable file', async () => {
    expect(await problemsOf({ iss: 'https://x.example' })).toEqual([
      '(root): the file must hold a JSON array of issuers',
    ]);
    await expect(loadEhrIssuers(join(dir, 'nope.json'))).rejects.toThrow(/cannot read the file/);
    await expect(loadEhrIssuers(join(dir, 'broken.json'))).rejects.toThrow(/not valid JSON/);
  });
});

describe('isSecureEhrUrl', () => {
  it('takes https anywhere and http on loopback only', () => {
    expect(isSecureEhrUrl('https://ehr.example/fhir')).toBe(true);
    expect(isSecureEhrUrl('http://localhost:8080/fhir')).toBe(true);
    expect(isSecureEhrUrl('http://[::1]:8080/fhir')).toBe(true);
    expect(isSecureEhrUrl('http://ehr.example/fhir')).toBe(false);
    expect(isSecureEhrUrl('https://ehr.example/fhir?x=1')).toBe(false);
    expect(isSecureEhrUrl('ftp://ehr.example')).toBe(false);
    expect(isSecureEhrUrl('not a url')).toBe(false);
  });
});
