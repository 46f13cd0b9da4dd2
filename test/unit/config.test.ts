import { isAddressAllowed } from '../../engine/src/notify/endpoint-address-policy';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../engine/src/config/schema';

describe('loadConfig', () => {
  it('applies the documented defaults', () => {
    const c = loadConfig({});
    expect(c.mllp.port).toBe(2575);
    expect(c.http).toEqual({ host: '0.0.0.0', port: 8080, publicUrl: 'http://localhost:8080' });
    expect(c.role).toBe('all');
    expect(c.redis.url).toBe('redis://127.0.0.1:6379');
    expect(c.database.url).toBeUndefined();
    expect(c.database.dataDir).toBe('./data');
    expect([c.database.timeoutMs, c.redis.timeoutMs]).toEqual([5_000, 2_000]);
    expect(c.mllp).toMatchObject({
      frameTimeoutMs: 30_000,
      maxConnectionsPerPeer: 20,
      maxSegments: 5_000,
      maxRepetitions: 1_000,
    });
    expect(c.mllp.maxFrameBytes).toBe(1024 * 1024);
    expect(c.mllp.allowedSenders).toBeUndefined();
    expect(Object.isFrozen(c.mllp)).toBe(true);
  });

  it('reads HTTP_HOST and ENGINE_ROLE, refusing an unknown role', () => {
    const c = loadConfig({ HTTP_HOST: '127.0.0.1', ENGINE_ROLE: 'worker' });
    expect([c.http.host, c.role]).toEqual(['127.0.0.1', 'worker']);
    expect(() => loadConfig({ ENGINE_ROLE: 'everything' })).toThrow(/ENGINE_ROLE/);
  });

  it('parses the sender allowlist', () => {
    expect(loadConfig({ MLLP_ALLOWED_SENDERS: 'GHH, LAB^CITY' }).mllp.allowedSenders).toEqual([
      { facility: 'GHH' },
      { application: 'LAB', facility: 'CITY' },
    ]);
  });

  it('reports every problem at once', () => {
    try {
      loadConfig({ MLLP_PORT: 'abc', HTTP_PORT: '99999', LOG_LEVEL: 'loud', PUBLIC_URL: 'not a url' });
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(ConfigError);
      const problems = (err as ConfigError).problems.join('\n');
      for (const name of ['MLLP_PORT', 'HTTP_PORT', 'LOG_LEVEL', 'PUBLIC_URL']) {
        expect(problems).toContain(name);
      }
    }
  });

  it('requires TLS certificate and key together', () => {
    expect(() => loadConfig({ MLLP_TLS_CERT: 'cert.pem' })).toThrow(/MLLP_TLS_CERT and MLLP_TLS_KEY/);
    expect(() => loadConfig({ MLLP_TLS_CA: 'ca.pem' })).toThrow(/MLLP_TLS_CA/);
  });

  it('parses the endpoint allowlist once, refusing a bad entry with the others', () => {
    const policy = loadConfig({ ENDPOINT_ALLOWED_HOSTS: '127.0.0.1, 10.1.0.0/16' }).notify.endpointPolicy;
    expect(isAddressAllowed('127.0.0.1', policy)).toBe(true);
    expect(isAddressAllowed('10.1.2.3', policy)).toBe(true);
    expect(isAddressAllowed('10.2.0.1', policy)).toBe(false);
    expect(isAddressAllowed('169.254.169.254', loadConfig({}).notify.endpointPolicy)).toBe(false);
    expect(() => loadConfig({ ENDPOINT_ALLOWED_HOSTS: '10.0.0.300', MLLP_TLS_CA: 'ca.pem' })).toThrow(
      /ENDPOINT_ALLOWED_HOSTS[\s\S]*MLLP_TLS_CA|MLLP_TLS_CA[\s\S]*ENDPOINT_ALLOWED_HOSTS/,
    );
  });

  it('takes DEFAULT_TIMEZONE as an IANA zone, else the host zone', () => {
    expect(loadConfig({ DEFAULT_TIMEZONE: 'America/Chicago' }).defaultTimezone).toBe('America/Chicago');
    expect(loadConfig({ DEFAULT_TIMEZONE: 'UTC' }).defaultTimezone).toBe('UTC');
    expect(loadConfig({}).defaultTimezone).toBe(Intl.DateTimeFormat().resolvedOptions().timeZone);
    expect(loadConfig({ DEFAULT_TIMEZONE: '' }).defaultTimezone).toBe(
      Intl.DateTimeFormat().resolvedOptions().timeZone,
    );
  });

  it('refuses an unknown zone, an offset or a legacy name, naming the setting with the others', () => {
    for (const zone of ['America/Gotham', '-05:00', 'EST', ' America/Chicago']) {
      expect(() => loadConfig({ DEFAULT_TIMEZONE: zone }), zone).toThrow(
        /DEFAULT_TIMEZONE: .*IANA time zone/,
      );
    }
    try {
      loadConfig({ DEFAULT_TIMEZONE: 'Mars/Olympus_Mons', MLLP_TLS_CA: 'ca.pem' });
      expect.unreachable();
    } catch (err) {
      expect((err as ConfigError).problems).toEqual([
        'MLLP_TLS_CA needs MLLP_TLS_CERT and MLLP_TLS_KEY',
        'DEFAULT_TIMEZONE: "Mars/Olympus_Mons" is not an IANA time zone such as America/New_York, or UTC',
      ]);
    }
  });
});
