/**
 * Connection-level behaviour of the MLLP listener: idle timeout, connection limit, TLS and
 * mutual TLS with the certificate bound to the sending facility.
 */
import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { adtMessage, MllpTestClient } from '../helpers/mllp-test-client';
import { startTestEngine, type TestEngine } from '../helpers/test-engine';

const tlsDir = 'test/fixtures/tls';
const pem = (name: string): Buffer => readFileSync(`${tlsDir}/${name}`);
let engine: TestEngine | undefined;

afterEach(async () => {
  await engine?.destroy();
  engine = undefined;
});

describe('MLLP limits', () => {
  it('closes an idle connection, even one holding a partial frame', async () => {
    engine = await startTestEngine({ env: { MLLP_IDLE_TIMEOUT_MS: '300' } });
    const client = await MllpTestClient.connect(engine.mllpPort);
    client.write(Buffer.from('\x0bMSH|^~\\&|EPIC|GHH|'));
    const started = Date.now();
    await client.waitClosed(5_000);
    expect(Date.now() - started).toBeGreaterThanOrEqual(250);
  });

  it('refuses connections beyond the limit and serves the ones it holds', async () => {
    engine = await startTestEngine({ env: { MLLP_MAX_CONNECTIONS: '2' } });
    const a = await MllpTestClient.connect(engine.mllpPort);
    const b = await MllpTestClient.connect(engine.mllpPort);
    await new Promise((r) => setTimeout(r, 100));
    const c = await MllpTestClient.connect(engine.mllpPort);
    await c.waitClosed(5_000);
    expect((await a.send(adtMessage({ controlId: 'LIM-A' }))).code).toBe('AA');
    expect((await b.send(adtMessage({ controlId: 'LIM-B' }))).code).toBe('AA');
    a.close();
    b.close();
  });
});

describe('MLLP over TLS', () => {
  const tlsEnv = { MLLP_TLS_CERT: `${tlsDir}/server.pem`, MLLP_TLS_KEY: `${tlsDir}/server-key.pem` };

  it('accepts messages over TLS', async () => {
    engine = await startTestEngine({ env: tlsEnv });
    const client = await MllpTestClient.connect(engine.mllpPort, {
      ca: pem('ca.pem'),
      servername: 'localhost',
    });
    expect((await client.send(adtMessage({ controlId: 'TLS-1' }))).code).toBe('AA');
    client.close();
  });

  it('with mutual TLS, requires a trusted client certificate whose CN is the sending facility', async () => {
    engine = await startTestEngine({ env: { ...tlsEnv, MLLP_TLS_CA: `${tlsDir}/ca.pem` } });
    const port = engine.mllpPort;
    const as = (name: string): Promise<MllpTestClient> =>
      MllpTestClient.connect(port, {
        ca: pem('ca.pem'),
        servername: 'localhost',
        cert: pem(`${name}.pem`),
        key: pem(`${name}-key.pem`),
      });

    const ghh = await as('GHH');
    expect((await ghh.send(adtMessage({ controlId: 'MTLS-1', facility: 'GHH' }))).code).toBe('AA');
    const spoof = await ghh.send(adtMessage({ controlId: 'MTLS-2', facility: 'OTHER' }));
    expect([spoof.code, spoof.controlId]).toEqual(['AR', 'MTLS-2']);
    ghh.close();

    const rogue = await as('rogue').catch(() => undefined);
    if (rogue !== undefined) {
      // TLS 1.3 reports a rejected client certificate only after the handshake: the server closes.
      await rogue.waitClosed(5_000);
    }
    const anonymous = await MllpTestClient.connect(port, {
      ca: pem('ca.pem'),
      servername: 'localhost',
    }).catch(() => undefined);
    if (anonymous !== undefined) await anonymous.waitClosed(5_000);
  });
});
