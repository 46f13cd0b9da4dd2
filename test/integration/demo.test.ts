/**
 * `npm run demo` end to end, as `startDemo` (what the CLI calls) runs it against the test
 * PostgreSQL: the sandbox EHR, the engine trusting it, the practice, and the three hospitals'
 * feeds over MLLP. After the feeds the engine must hold one person for the patient seen at three
 * facilities, keep the twins apart, have told the practice, and exchange the sandbox's token from
 * a real EHR launch for one bound to that person's records.
 */
import { existsSync, readFileSync } from 'node:fs';
import { chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDemo, type RunningDemo } from '../../engine/src/cli/demo';
import { LINDQVIST, OKAFOR } from '../../engine/src/cli/sandbox-ehr/demo-hospitals';
import type { HospitalRecord } from '../../engine/src/cli/sandbox-ehr/demo-hospitals';
import { launchApp } from '../helpers/sandbox-launch';
import { TEST_DATABASE_URL, TEST_REDIS_URL, uniqueName } from '../helpers/test-db';
import { dropEngineData } from '../helpers/test-engine';

const CHROMIUM = '/usr/bin/chromium';
const APP_BUILD = 'smart-app/dist/launch.html';
const browserSkip = !existsSync(CHROMIUM)
  ? `no Chromium at ${CHROMIUM}`
  : !existsSync(APP_BUILD)
    ? `no SMART app build (${APP_BUILD}; npm run build:app)`
    : undefined;

const schema = uniqueName('demo');
const prefix = uniqueName('q');
const lines: string[] = [];
let demo: RunningDemo;

beforeAll(async () => {
  demo = await startDemo({
    port: 0,
    ehrPort: 0,
    env: {
      REDIS_URL: TEST_REDIS_URL,
      DATABASE_URL: TEST_DATABASE_URL,
      DATABASE_SCHEMA: schema,
      QUEUE_PREFIX: prefix,
      LOG_LEVEL: 'silent',
    },
    say: (line) => lines.push(line),
  });
}, 120_000);
afterAll(async () => {
  await demo?.stop();
  await dropEngineData(schema, prefix);
});

async function personOf(r: HospitalRecord): Promise<string> {
  const mrn = r.patient.mrns[r.facility.index] ?? '';
  const rows = await demo.engine.db.query<{ person_id: string }>(
    `SELECT i.person_id FROM identity_records i
       JOIN fhir_resources f ON f.resource_type = 'Patient' AND f.id = i.patient_id
      WHERE i.active AND f.resource->'identifier' @> $1::jsonb`,
    [JSON.stringify([{ value: mrn }])],
  );
  expect(rows, `identity record of ${r.facility.code} ${mrn}`).toHaveLength(1);
  return rows[0]!.person_id;
}

async function patientIdOf(r: HospitalRecord): Promise<string> {
  const rows = await demo.engine.db.query<{ id: string }>(
    `SELECT id FROM fhir_resources WHERE resource_type = 'Patient' AND resource->'identifier' @> $1::jsonb`,
    [JSON.stringify([{ value: r.patient.mrns[r.facility.index] ?? '' }])],
  );
  expect(rows).toHaveLength(1);
  return rows[0]!.id;
}

interface ExchangeBody {
  access_token?: string;
  match?: { status: string; records: { patient: string }[] };
}

/** An EHR launch of `patientId` at the sandbox, then the app's token exchange at the engine. */
async function exchange(patientId: string): Promise<{ body: ExchangeBody; publicUrl: string }> {
  const publicUrl = demo.engine.config.http.publicUrl;
  const ehrToken = await launchApp(demo.ehr, patientId, {
    clientId: demo.engine.config.smartAppClientId,
    redirectUri: `${publicUrl}/app/`,
  });
  const res = await fetch(`${publicUrl}/auth/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      grant_type: 'urn:ietf:params:oauth:grant-type:token-exchange',
      subject_token: ehrToken.access_token,
      subject_token_type: 'urn:ietf:params:oauth:token-type:access_token',
      subject_issuer: demo.ehr.iss,
    }),
  });
  const body = (await res.json()) as ExchangeBody;
  expect(res.status, JSON.stringify(body)).toBe(200);
  return { body, publicUrl };
}

describe('npm run demo', () => {
  it('sends every feed message, each acknowledged AA and processed', () => {
    expect(demo.feeds).toBeDefined();
    const feeds = demo.feeds!;
    expect(feeds.problems).toEqual([]);
    expect(feeds.acks).toEqual({ AA: feeds.sent });
    expect(feeds.processing).toEqual({ processed: feeds.sent, failed: 0, pending: 0 });
    expect(lines.some((l) => l.startsWith('feeds:'))).toBe(true);
  });

  it('links the patient seen at three facilities into one person and keeps the twins apart', async () => {
    const okafor = await Promise.all([OKAFOR.mercy, OKAFOR.stJohns, OKAFOR.riverside].map(personOf));
    expect(new Set(okafor).size).toBe(1);
    const ethan = await Promise.all([LINDQVIST.ethanMercy, LINDQVIST.ethanStJohns].map(personOf));
    const evan = await Promise.all([LINDQVIST.evanMercy, LINDQVIST.evanStJohns].map(personOf));
    expect(new Set(ethan).size).toBe(1);
    expect(new Set(evan).size).toBe(1);
    expect(ethan[0]).not.toBe(evan[0]);
  });

  it('tells the registered practice (Da Vinci notifications to its endpoint)', async () => {
    await demo.notices.settled(500, 10_000);
    expect(demo.notices.events).toEqual(
      expect.arrayContaining([
        'notification-admit',
        'notification-transfer',
        'notification-discharge',
        'notification-lab-report',
      ]),
    );
  });

  it('trusts the sandbox EHR: its issuers file works at the introspection endpoint the EHR advertises', async () => {
    const file = demo.engine.config.ehrIssuersFile!;
    const [issuer] = JSON.parse(readFileSync(file, 'utf8')) as {
      iss: string;
      introspection_auth: { method: string; client_id: string; client_secret: string };
    }[];
    expect(issuer?.iss).toBe(demo.ehr.iss);
    expect(issuer?.introspection_auth.method).toBe('client_secret_basic');
    const discovery = (await (await fetch(`${demo.ehr.iss}/.well-known/smart-configuration`)).json()) as {
      introspection_endpoint: string;
    };
    const { client_id, client_secret } = issuer!.introspection_auth;
    const res = await fetch(discovery.introspection_endpoint, {
      method: 'POST',
      headers: {
        authorization: `Basic ${Buffer.from(`${client_id}:${client_secret}`).toString('base64')}`,
        'content-type': 'application/x-www-form-urlencoded',
      },
      body: new URLSearchParams({
        token: demo.ehr.issueToken({ scope: 'patient/Patient.rs', patient: 'x' }),
      }),
    });
    expect(await res.json()).toMatchObject({ active: true, patient: 'x' });
  });

  it('exchanges the token of an EHR launch for one bound to the patient’s records at all three facilities', async () => {
    const { body, publicUrl } = await exchange('okafor-margaret');
    expect(body.match?.status).toBe('matched');
    expect(body.match?.records).toHaveLength(3);
    const encounters = await fetch(`${publicUrl}/fhir/Encounter?_count=50`, {
      headers: { authorization: `Bearer ${body.access_token ?? ''}` },
    });
    const bundle = (await encounters.json()) as { entry?: unknown[] };
    expect(encounters.status).toBe(200);
    expect(bundle.entry?.length).toBe(3);
  });

  it('gives a twin only his own records, and the patient with no hospital records none', async () => {
    const ethan = await exchange('lindqvist-ethan');
    expect(ethan.body.match?.status).toBe('matched');
    const ethanRecords = await Promise.all([LINDQVIST.ethanMercy, LINDQVIST.ethanStJohns].map(patientIdOf));
    expect(ethan.body.match?.records.map((r) => r.patient).sort()).toEqual(
      ethanRecords.map((id) => `Patient/${id}`).sort(),
    );
    const aisha = await exchange('rahman-aisha');
    expect(aisha.body.match).toMatchObject({ status: 'none', records: [] });
  });

  it('serves the launcher page, the one URL it prints, listing the demo patients', async () => {
    const res = await fetch(demo.launcherUrl);
    expect(res.status).toBe(200);
    const html = await res.text();
    expect(html).toContain('/ehr/okafor-margaret');
    expect(html).toContain('/ehr/rahman-aisha');
  });

  it.skipIf(browserSkip !== undefined)(
    `launches the care timeline inside the EHR's frame in a real browser${browserSkip !== undefined ? ` (skipped: ${browserSkip})` : ''}`,
    async () => {
      const browser = await chromium.launch({
        executablePath: CHROMIUM,
        args: ['--no-sandbox'],
        headless: true,
      });
      try {
        const page = await browser.newPage();
        const blocked: string[] = [];
        page.on('console', (m) => {
          if (m.text().includes('Content Security Policy')) blocked.push(m.text());
        });
        await page.goto(`${demo.launcherUrl}ehr/okafor-margaret`);
        const frame = page.frameLocator('iframe');
        // The app shows its own banner (need_patient_banner): the launch patient's name.
        await frame.getByText('Okafor', { exact: false }).first().waitFor({ timeout: 30_000 });
        const app = page.frames().find((f) => f !== page.mainFrame());
        expect(new URL(app!.url()).pathname).toBe('/app/');
        expect(blocked).toEqual([]);
      } finally {
        await browser.close();
      }
    },
  );
});
