// The settings the SMART app path adds: CORS origins (exact, the engine's own always in) and the
// app's client id.
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig, parseCorsOrigins } from '../../engine/src/config/schema';

describe('CORS_ALLOWED_ORIGINS and SMART_APP_CLIENT_ID', () => {
  it('defaults to the engine’s own origin and the care-timeline client', () => {
    const c = loadConfig({ PUBLIC_URL: 'https://care.example.org/base' });
    expect(c.cors.allowedOrigins).toEqual(['https://care.example.org']);
    expect(c.smartAppClientId).toBe('care-timeline');
  });

  it('adds listed origins, once each', () => {
    const c = loadConfig({
      PUBLIC_URL: 'https://care.example.org',
      CORS_ALLOWED_ORIGINS: 'https://app.example.org, http://localhost:5173/,https://care.example.org',
      SMART_APP_CLIENT_ID: 'timeline-prod',
    });
    expect(c.cors.allowedOrigins).toEqual([
      'https://care.example.org',
      'https://app.example.org',
      'http://localhost:5173',
    ]);
    expect(c.smartAppClientId).toBe('timeline-prod');
  });

  it('refuses what is not an origin, naming each entry', () => {
    expect(parseCorsOrigins('https://a.example/path,*,ftp://b.example, https://ok.example').problems).toEqual(
      [
        'CORS_ALLOWED_ORIGINS: "https://a.example/path" is not an origin such as https://app.example.org',
        'CORS_ALLOWED_ORIGINS: "*" is not an origin such as https://app.example.org',
        'CORS_ALLOWED_ORIGINS: "ftp://b.example" is not an origin such as https://app.example.org',
      ],
    );
    expect(() => loadConfig({ CORS_ALLOWED_ORIGINS: '*' })).toThrow(ConfigError);
    expect(() => loadConfig({ SMART_APP_CLIENT_ID: '' })).toThrow(/SMART_APP_CLIENT_ID/);
  });
});
