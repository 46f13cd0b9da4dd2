// The engine's `/app/`: config.json (client id and scopes), the built pages never cached and the
// hashed assets cached for a year, frameable by an EHR, 503 with the fix when nothing is built;
// and `npm start`'s rebuild of a missing or stale build (a real Vite build of a small app).
import { mkdir, mkdtemp, rm, utimes, writeFile } from 'node:fs/promises';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import express from 'express';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureAppBuild, staleReason } from '../../engine/src/cli/ensure-app-build';
import { createSmartAppRouter, SMART_APP_SCOPES } from '../../engine/src/http/smart-app-routes';

let dir: string;
let server: Server;
let base: string;

async function listen(distDir: string): Promise<{ server: Server; base: string }> {
  const app = express();
  app.use('/app', createSmartAppRouter({ distDir, clientId: 'care-timeline' }));
  app.use((_req, res) => {
    res.status(404).end();
  });
  const s = await new Promise<Server>((resolve) => {
    const started = app.listen(0, '127.0.0.1', () => resolve(started));
  });
  return { server: s, base: `http://127.0.0.1:${(s.address() as AddressInfo).port}` };
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'smart-app-'));
  await mkdir(join(dir, 'dist', 'assets'), { recursive: true });
  await writeFile(join(dir, 'dist', 'index.html'), '<!doctype html><title>app</title>');
  await writeFile(join(dir, 'dist', 'launch.html'), '<!doctype html><title>launch</title>');
  await writeFile(join(dir, 'dist', 'console.html'), '<!doctype html><title>console</title>');
  await writeFile(join(dir, 'dist', 'assets', 'index-abc123.js'), 'console.log(1)');
  ({ server, base } = await listen(join(dir, 'dist')));
});

afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
  await rm(dir, { recursive: true, force: true });
});

describe('/app/', () => {
  it('serves config.json with the client id and the scopes the exchange can use', async () => {
    const res = await fetch(`${base}/app/config.json`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ clientId: 'care-timeline', scopes: SMART_APP_SCOPES });
    expect(SMART_APP_SCOPES).toEqual(
      expect.arrayContaining([
        'launch',
        'openid',
        'fhirUser',
        'patient/Patient.rs',
        'patient/Encounter.rs',
        'online_access',
      ]),
    );
  });

  it('serves the pages uncached and frameable, and the hashed assets for a year', async () => {
    const index = await fetch(`${base}/app/`);
    expect(index.status).toBe(200);
    expect(await index.text()).toContain('<title>app</title>');
    expect(index.headers.get('cache-control')).toBe('no-cache');
    expect(index.headers.get('content-security-policy')).toContain('frame-ancestors *');
    expect(index.headers.get('x-frame-options')).toBeNull();
    expect(index.headers.get('referrer-policy')).toBe('no-referrer');
    const launch = await fetch(`${base}/app/launch.html?iss=https%3A%2F%2Fehr%2Ffhir&launch=x`);
    expect(launch.headers.get('cache-control')).toBe('no-cache');
    const asset = await fetch(`${base}/app/assets/index-abc123.js`);
    expect(asset.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
  });

  it('redirects /app to /app/ and leaves unknown files to the next handler', async () => {
    const res = await fetch(`${base}/app`, { redirect: 'manual' });
    expect(res.status).toBe(301);
    expect(res.headers.get('location')).toBe('/app/');
    expect((await fetch(`${base}/app/nothing.js`)).status).toBe(404);
  });

  it('never serves the console page under the frameable policy, but sends it to /console/', async () => {
    const res = await fetch(`${base}/app/console.html`, { redirect: 'manual' });
    expect(res.status).toBe(301);
    expect(res.headers.get('location')).toBe('/console/');
    expect(await res.text()).not.toContain('<title>console</title>');
  });

  it('answers 503 with the fix while the app is not built', async () => {
    const empty = await listen(join(dir, 'not-built'));
    try {
      const res = await fetch(`${empty.base}/app/`);
      expect(res.status).toBe(503);
      expect(await res.text()).toContain('npm run build:app');
      expect((await fetch(`${empty.base}/app/config.json`)).status).toBe(200);
    } finally {
      await new Promise((resolve) => empty.server.close(resolve));
    }
  });
});

describe('ensure the app is built', () => {
  it('builds a missing build, keeps a current one, and rebuilds after a source changes', async () => {
    const app = await mkdtemp(join(tmpdir(), 'smart-app-src-'));
    try {
      await mkdir(join(app, 'src'));
      await writeFile(join(app, 'package.json'), '{"type": "module"}\n');
      await writeFile(join(app, 'src', 'main.js'), 'document.title = "x";\n');
      await writeFile(join(app, 'src', 'launch.js'), 'document.title = "y";\n');
      const page = (src: string): string =>
        `<!doctype html><html lang="en"><head><title>t</title></head><body><script type="module" src="${src}"></script></body></html>`;
      await writeFile(join(app, 'index.html'), page('/src/main.js'));
      await writeFile(join(app, 'launch.html'), page('/src/launch.js'));
      await writeFile(
        join(app, 'vite.config.ts'),
        `export default { base: '/app/', build: { rolldownOptions: { input: { index: ${JSON.stringify(join(app, 'index.html'))}, launch: ${JSON.stringify(join(app, 'launch.html'))} } } } };\n`,
      );
      const lines: string[] = [];
      const log = (l: string): void => {
        lines.push(l);
      };
      expect(staleReason(app)).toBe('smart-app/dist is missing');
      expect(await ensureAppBuild({ appDir: app, log })).toMatchObject({
        status: 'built',
        reason: 'smart-app/dist is missing',
      });
      expect(lines[0]).toContain('building it');
      expect(staleReason(app)).toBeUndefined();
      expect(await ensureAppBuild({ appDir: app, log })).toEqual({ status: 'current' });
      const later = new Date(Date.now() + 5_000);
      await utimes(join(app, 'src', 'main.js'), later, later);
      expect(staleReason(app)).toBe('smart-app/dist is older than its sources');
      expect(await ensureAppBuild({ appDir: app, log })).toMatchObject({ status: 'built' });
    } finally {
      await rm(app, { recursive: true, force: true });
    }
  });
});
