/**
 * Connection-level behaviour of the MLLP listener: idle timeout, connection limit, TLS and
 * mutual TLS with the certificate bound to the sending facility.
 */
import { readFileSync } from 'node:fs';
import type { ConnectionOptions } from 'node:tls';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { parseHl7 } from '../../engine/src/hl7/parse-message';
import { getSegments, readValue } from '../../engine/src/hl7/read-value';
import { adtMessage, MllpTestClient, type Ack } from '../helpers/mllp-test-client';
import { startTestEngine, waitFor, type TestEngine } from '../helpers/test-engine';
import { createTestPki, type IssuedCert, type TestPki } from '../helpers/test-pki';
import { attemptTlsSend } from '../helpers/tls-attempt';

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
});

/**
 * Mutual TLS: each case sends a real message and checks what the sender saw (handshake, alert,
 * ACK) and what the engine did (connection metric, archive). The PKI is made at test time, so
 * the certificates that must be refused differ from the accepted one only in what is tested:
 * the same subject `CN=GHH` issued by another CA or self-signed, or no certificate at all.
 */
describe('MLLP over mutual TLS', () => {
  const versions = ['TLSv1.2', 'TLSv1.3'] as const;
  type Version = (typeof versions)[number];
  let pki: TestPki;
  let ca: IssuedCert;
  let server: IssuedCert;
  let ghh: IssuedCert;
  let epicGhh: IssuedCert;
  let foreignGhh: IssuedCert;
  let selfSignedGhh: IssuedCert;
  let noCn: IssuedCert;
  let twoCns: IssuedCert;

  beforeAll(() => {
    pki = createTestPki();
    ca = pki.createCa('ca', '/CN=Care Test MLLP CA');
    server = pki.issue('server', {
      issuer: 'ca',
      subject: '/CN=localhost',
      usage: 'server',
      altNames: 'DNS:localhost,IP:127.0.0.1',
    });
    const client = (name: string, subject: string, issuer = 'ca'): IssuedCert =>
      pki.issue(name, { issuer, subject, usage: 'client' });
    ghh = client('ghh', '/CN=GHH');
    epicGhh = client('epic-ghh', '/CN=EPIC^GHH');
    noCn = client('no-cn', '/O=GHH');
    twoCns = client('two-cns', '/CN=GHH/CN=OTHER');
    pki.createCa('other-ca', '/CN=Another Hospital CA');
    foreignGhh = client('foreign-ghh', '/CN=GHH', 'other-ca');
    selfSignedGhh = pki.createCa('self-signed-ghh', '/CN=GHH');
  });
  afterAll(() => pki.remove());

  const startMutualTlsEngine = async (): Promise<TestEngine> => {
    engine = await startTestEngine({
      env: { MLLP_TLS_CERT: server.certFile, MLLP_TLS_KEY: server.keyFile, MLLP_TLS_CA: ca.certFile },
    });
    return engine;
  };
  const clientOptions = (cert: IssuedCert | undefined, version?: Version): ConnectionOptions => ({
    ca: ca.cert,
    servername: 'localhost',
    ...(cert !== undefined ? { cert: cert.cert, key: cert.key } : {}),
    ...(version !== undefined ? { minVersion: version, maxVersion: version } : {}),
  });
  /** `mllp_connections_total` by outcome: `accepted` once a handshake verified, `tls-error` otherwise. */
  const connections = async (e: TestEngine): Promise<Record<string, number>> => {
    const { values } = await e.metrics.connections.get();
    return Object.fromEntries(values.map((v) => [String(v.labels.outcome), v.value]));
  };
  const archived = (e: TestEngine): Promise<ArchiveRow[]> =>
    e.db.query<ArchiveRow>(
      `SELECT control_id, sending_facility, status, error->>'code' AS error_code FROM messages ORDER BY id`,
    );
  const ackSummary = (a: Ack): Record<string, string | undefined> => ({
    code: a.code,
    controlId: a.controlId,
  });

  it.each(versions)(
    '%s: a CA-signed certificate whose CN is MSH-4 gets AA; the message is archived and processed',
    async (version) => {
      const e = await startMutualTlsEngine();
      const attempt = await attemptTlsSend(
        e.mllpPort,
        clientOptions(ghh, version),
        adtMessage({ controlId: 'MTLS-OK', facility: 'GHH' }),
      );
      expect(attempt.error).toBeUndefined();
      expect(attempt.acks.map(ackSummary)).toEqual([{ code: 'AA', controlId: 'MTLS-OK' }]);
      await waitFor(async () => (await archived(e))[0]?.status === 'processed', 20_000, 'processing');
      expect(await archived(e)).toEqual([
        { control_id: 'MTLS-OK', sending_facility: 'GHH', status: 'processed', error_code: null },
      ]);
      expect(await connections(e)).toEqual({ accepted: 1 });
    },
  );

  it.each([
    // Under TLS 1.2 the server's handshake_failure alert ends the handshake before it completes.
    ['TLSv1.2', false, 'ERR_SSL_SSLV3_ALERT_HANDSHAKE_FAILURE'],
    // Under TLS 1.3 the client finishes first and then reads the certificate_required alert.
    ['TLSv1.3', true, 'ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED'],
  ] as const)(
    '%s: a client without a certificate is refused at the handshake and nothing is archived',
    async (version, secureConnected, code) => {
      const e = await startMutualTlsEngine();
      const attempt = await attemptTlsSend(
        e.mllpPort,
        clientOptions(undefined, version),
        adtMessage({ controlId: 'MTLS-ANON', facility: 'GHH' }),
      );
      expect(attempt).toMatchObject({ secureConnected, error: { code }, acks: [], closed: true });
      await waitFor(async () => (await connections(e))['tls-error'] === 1, 5_000, 'the tls-error metric');
      expect(await connections(e)).toEqual({ 'tls-error': 1 });
      expect(await archived(e)).toEqual([]);
    },
  );

  it('a CA-signed certificate whose CN is not MSH-4 gets AR with ERR, archived as rejected; the connection stays', async () => {
    const e = await startMutualTlsEngine();
    const client = await MllpTestClient.connect(e.mllpPort, clientOptions(ghh));
    const spoof = await client.send(adtMessage({ controlId: 'MTLS-SPOOF', facility: 'OTHER' }));
    const own = await client.send(adtMessage({ controlId: 'MTLS-OWN', facility: 'GHH' }));
    client.close();

    expect(ackSummary(spoof)).toEqual({ code: 'AR', controlId: 'MTLS-SPOOF' });
    const ack = parseHl7(spoof.text);
    expect(getSegments(ack, 'ERR')).toHaveLength(1);
    expect({
      location: readValue(ack, 'ERR-2'),
      code: readValue(ack, 'ERR-3.1'),
      severity: readValue(ack, 'ERR-4'),
      text: readValue(ack, 'ERR-8'),
    }).toEqual({
      location: 'MSH^1^4',
      code: '207',
      severity: 'E',
      text: 'sender EPIC^OTHER is not authorised on this interface',
    });
    // The certificate itself is good: the same connection sends as its own facility.
    expect(ackSummary(own)).toEqual({ code: 'AA', controlId: 'MTLS-OWN' });
    await waitFor(async () => (await archived(e))[1]?.status === 'processed', 20_000, 'processing');
    expect(await archived(e)).toEqual([
      {
        control_id: 'MTLS-SPOOF',
        sending_facility: 'OTHER',
        status: 'rejected',
        error_code: 'unknown-sender',
      },
      { control_id: 'MTLS-OWN', sending_facility: 'GHH', status: 'processed', error_code: null },
    ]);
    expect(await connections(e)).toEqual({ accepted: 1 });
  });

  it('a certificate whose CN is MSH-3^MSH-4 may send for that application only', async () => {
    const e = await startMutualTlsEngine();
    const client = await MllpTestClient.connect(e.mllpPort, clientOptions(epicGhh));
    const epic = await client.send(adtMessage({ controlId: 'MTLS-EPIC', app: 'EPIC', facility: 'GHH' }));
    const lab = await client.send(adtMessage({ controlId: 'MTLS-LAB', app: 'LAB', facility: 'GHH' }));
    client.close();
    expect([epic, lab].map(ackSummary)).toEqual([
      { code: 'AA', controlId: 'MTLS-EPIC' },
      { code: 'AR', controlId: 'MTLS-LAB' },
    ]);
    expect((await archived(e)).map((r) => [r.control_id, r.status === 'rejected'])).toEqual([
      ['MTLS-EPIC', false],
      ['MTLS-LAB', true],
    ]);
  });

  describe.each([
    ['issued by another CA', () => foreignGhh],
    ['self-signed', () => selfSignedGhh],
  ])('a certificate for CN=GHH %s', (_what, cert) => {
    it.each([
      // The server checks the chain after the handshake and drops the connection without an
      // alert: under TLS 1.2 that is before the client's handshake has completed ...
      ['TLSv1.2', false],
      // ... under TLS 1.3 after it, so the client sees the connection close with no ACK.
      ['TLSv1.3', true],
    ] as const)(
      '%s: is refused at the handshake and nothing is archived',
      async (version, secureConnected) => {
        const e = await startMutualTlsEngine();
        const attempt = await attemptTlsSend(
          e.mllpPort,
          clientOptions(cert(), version),
          adtMessage({ controlId: 'MTLS-UNTRUSTED', facility: 'GHH' }),
        );
        expect(attempt).toMatchObject({ secureConnected, acks: [], closed: true });
        if (!secureConnected) expect(attempt.error?.code).toBe('ECONNRESET');
        // The server side: a failed TLS handshake, never a connection the listener served.
        await waitFor(async () => (await connections(e))['tls-error'] === 1, 5_000, 'the tls-error metric');
        expect(await connections(e)).toEqual({ 'tls-error': 1 });
        expect(await archived(e)).toEqual([]);
      },
    );
  });

  // A verified certificate must name exactly one sender: with no CN, or two (Node gives an array),
  // it names none, and must not send as any facility.
  it.each([
    ['no CN', () => noCn],
    ['two CNs', () => twoCns],
  ])('a CA-signed certificate with %s cannot send as any facility', async (_what, cert) => {
    const e = await startMutualTlsEngine();
    const client = await MllpTestClient.connect(e.mllpPort, clientOptions(cert()));
    const ack = await client.send(adtMessage({ controlId: 'MTLS-NOCN', facility: 'ANYONE' }));
    client.close();
    expect(ackSummary(ack)).toEqual({ code: 'AR', controlId: 'MTLS-NOCN' });
  });
});

interface ArchiveRow {
  control_id: string | null;
  sending_facility: string | null;
  status: string;
  error_code: string | null;
}
