// The clients file is edited by hand; these cases pin down that every mistake is reported, named and located.
import { exportJWK, generateKeyPair, type JWK } from 'jose';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  SmartClientsError,
  createSmartClientRegistry,
  parseSmartClients,
} from '../../engine/src/auth/smart-clients';

let es384: JWK;
let rs384: JWK;
let es384Private: JWK;

beforeAll(async () => {
  const es = await generateKeyPair('ES384', { extractable: true });
  const rs = await generateKeyPair('RS384', { extractable: true });
  es384 = { ...(await exportJWK(es.publicKey)), kid: 'es' };
  rs384 = { ...(await exportJWK(rs.publicKey)), kid: 'rs' };
  es384Private = await exportJWK(es.privateKey);
});

function problemsOf(data: unknown): readonly string[] {
  try {
    parseSmartClients(data, 'clients.json');
  } catch (err) {
    expect(err).toBeInstanceOf(SmartClientsError);
    const e = err as SmartClientsError;
    expect(e.code).toBe('smart-clients-invalid');
    expect(e.message).toContain('clients.json');
    return e.problems;
  }
  throw new Error('expected the clients to be rejected');
}

describe('parseSmartClients', () => {
  it('accepts EC P-384 and RSA keys with system scopes', () => {
    const clients = parseSmartClients(
      [
        { client_id: 'a', jwks: { keys: [es384] }, scope: 'system/*.rs' },
        {
          client_id: 'b',
          jwks: { keys: [rs384, es384] },
          scope: 'system/Patient.read  system/Observation.rs',
        },
      ],
      'clients.json',
    );
    expect(clients.map((c) => c.clientId)).toEqual(['a', 'b']);
    expect(clients[1]?.scopes).toEqual(['system/Patient.read', 'system/Observation.rs']);
    expect(createSmartClientRegistry(clients).find('b')?.jwks.keys).toHaveLength(2);
    expect(createSmartClientRegistry(clients).find('nobody')).toBeUndefined();
  });

  it('reports every problem at once, each with its location', () => {
    const problems = problemsOf([
      { client_id: '', jwks: { keys: [es384] }, scope: 'system/*.rs' },
      { client_id: 'b', jwks: { keys: [es384Private] }, scope: 'patient/*.read openid' },
      { client_id: 'c', jwks: { keys: [{ kty: 'oct', k: 'c2VjcmV0' }] }, scope: 'system/*.rs' },
      { client_id: 'd', jwks: { keys: [] } },
      { client_id: 'd', jwks: { keys: [{ ...es384, crv: 'P-256' }] }, scope: 'system/*.rs' },
    ]);
    const text = problems.join('\n');
    expect(text).toContain('[0].client_id');
    expect(text).toContain('[1].jwks.keys[0]: contains private member "d"');
    expect(text).toContain('[1].scope: "patient/*.read" is not a system scope');
    expect(text).toContain('[1].scope: "openid" is not a system scope');
    expect(text).toContain('[2].jwks.keys[0].kty');
    expect(text).toContain('[3].jwks.keys: jwks.keys is empty');
    expect(text).toContain('[3].scope: scope is required');
    expect(text).toContain('[4].jwks.keys[0]: EC keys must use crv "P-384"');
    expect(text).toContain('[4].client_id: duplicate client_id "d"');
  });

  it('rejects key material that does not import and scopes with filters', () => {
    const problems = problemsOf([
      {
        client_id: 'a',
        jwks: { keys: [{ kty: 'EC', crv: 'P-384', x: 'AA', y: 'AA' }] },
        scope: 'system/*.rs',
      },
      { client_id: 'b', jwks: { keys: [es384] }, scope: 'system/Observation.rs?category=laboratory' },
    ]);
    expect(problems.join('\n')).toContain('[0].jwks.keys[0]: not a usable public key');
    expect(problems.join('\n')).toContain('filters with ? are not supported');
  });

  it('rejects a file that is not an array', () => {
    expect(problemsOf({ client_id: 'a' })).toEqual(['(root): the file must hold a JSON array of clients']);
  });
});
