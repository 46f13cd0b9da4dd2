/**
 * The SMART app end to end in headless Chromium: the sandbox EHR on a loopback port launches the
 * app the engine serves at /app/ (SMART EHR launch, PKCE S256), the app exchanges the EHR token at
 * the engine and draws the timeline from the hospital feeds the engine received over MLLP. One
 * engine, two EHRs (one with tokens of a few seconds) and one browser for the file; every test
 * has a fresh browser context, so no session leaks between them. Skips (with the reason) where
 * /usr/bin/chromium is missing.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import axe from 'axe-core';
import type { Browser, BrowserContext, FrameLocator, Locator, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startAppStack, type AppStack } from '../../engine/src/cli/bench/app-stack';
import { chromiumUnavailable, launchChromium } from '../../engine/src/cli/bench/headless-chromium';
import { ensureAppBuild } from '../../engine/src/cli/ensure-app-build';
import { buildDemoFeeds, type DemoFeedMessage } from '../../engine/src/cli/sandbox-ehr/demo-feeds';
import { sendDemoFeeds, waitForProcessing } from '../../engine/src/cli/sandbox-ehr/demo-feed-sender';
import { OKAFOR } from '../../engine/src/cli/sandbox-ehr/demo-hospitals';
import { DEMO_PATIENTS } from '../../engine/src/cli/sandbox-ehr/demo-patients';
import type { SandboxEhr } from '../../engine/src/cli/sandbox-ehr/sandbox-ehr';
import { CBC } from '../../engine/src/cli/simulator/lab-panels';
import { renderOru } from '../../engine/src/cli/simulator/message-templates';
import { startTestEngine, type TestEngine } from '../helpers/test-engine';

const UNAVAILABLE = chromiumUnavailable();
if (UNAVAILABLE !== undefined) console.log(`smart-app e2e: skipped, ${UNAVAILABLE}`);

/** Git-ignored; CI can keep them as artifacts. */
const SCREENSHOTS = join(import.meta.dirname, '../../test-results/screenshots');
/** The short-lived EHR's access and refresh tokens, in seconds. */
const SHORT_TOKEN_SEC = 4;
const MERCY = 'MERCY';
const ST_JOHNS = 'STJOHN';
const RIVERSIDE = 'RIVERSIDE';

let stack: AppStack<TestEngine>;
let browser: Browser;
const contexts: BrowserContext[] = [];
/** Uncaught exceptions in the current test's pages: the app must never crash. */
let pageErrors: string[] = [];
/** Console errors (CSP refusals, failed requests) of the current test's pages, to explain a timeout. */
let consoleErrors: string[] = [];

/**
 * A critically low haemoglobin for Okafor at St. John's yesterday, besides the demo's stories
 * (whose one critical value, Mercy's potassium, is corrected to a non-critical one).
 */
function criticalHemoglobin(now: Date, runId: string): DemoFeedMessage {
  const r = OKAFOR.stJohns;
  const at = new Date(now.getTime() - 20 * 3600_000);
  const controlId = `E2E-${runId}-crit`;
  const values = CBC.analytes.map((a) =>
    a.loinc === '718-7'
      ? { value: '6.1', flag: 'LL' as const }
      : { value: ((a.low + a.high) / 2).toFixed(a.decimals), flag: 'N' as const },
  );
  const text = renderOru({
    facility: r.facility,
    patient: r.patient,
    controlId,
    sentAt: at,
    version: r.facility.labVersion,
    panel: CBC,
    values,
    orderNumber: `SJ-O1177-E2E-${runId}`,
    orderingProvider: r.facility.physicians[0] ?? r.patient.pcp,
    collectedAt: new Date(at.getTime() - 3600_000),
  });
  return { at, facility: r.facility.code, controlId, text, summary: 'ORU^R01 STJOHN critical Hgb' };
}

/**
 * Sends each message and waits for it to be processed before the next, so the records of one
 * person at two hospitals are never linked in two concurrent transactions (which the identity
 * sweep would only join a minute later).
 */
async function sendInOrder(engine: TestEngine, messages: readonly DemoFeedMessage[]): Promise<void> {
  for (const m of messages) {
    const sent = await sendDemoFeeds({ host: '127.0.0.1', port: engine.mllpPort, messages: [m] });
    expect(sent.problems, m.summary).toEqual([]);
    const done = await waitForProcessing(engine.db, [m.controlId], 20_000);
    expect(done, m.summary).toEqual({ processed: 1, failed: 0, pending: 0 });
  }
}

async function newPage(viewport = { width: 1280, height: 900 }): Promise<Page> {
  const context = await browser.newContext({ viewport, locale: 'en-US', timezoneId: 'America/Chicago' });
  contexts.push(context);
  const page = await context.newPage();
  page.on('pageerror', (err) => pageErrors.push(`${page.url()}: ${err.message}`));
  page.on('console', (m) => {
    if (m.type() === 'error') consoleErrors.push(m.text());
  });
  return page;
}

/** The EHR's "Open in a new tab": `/launch/<id>` redirects to the app's launch URL. */
async function launch(page: Page, patientId: string, ehr: SandboxEhr = stack.ehrs[0]!): Promise<void> {
  await page.goto(`${ehr.url}launch/${patientId}`);
}

/** Waits for the whole timeline (progressive rendering done). */
async function timelineOf(scope: Page | FrameLocator): Promise<Locator> {
  const list = scope.locator('ol.timeline[aria-busy="false"]');
  try {
    await list.waitFor({ timeout: 20_000 });
  } catch (err) {
    const said = consoleErrors.length > 0 ? `; the browser said: ${consoleErrors.join(' | ')}` : '';
    throw new Error(`no timeline${said}`, { cause: err });
  }
  return list;
}

/** The facility named on each card of the list, in order. */
async function cardFacilities(list: Locator): Promise<string[]> {
  const names = await list.locator('.card-facility').allTextContents();
  return names.map((n) => n.replace(/^\s*·\s*/, '').trim());
}

/**
 * The document's scroll width or height. In-page code is passed as strings: the engine's
 * tsconfig has no DOM types, and the page has no tsx helpers.
 */
async function scrollSize(page: Page, which: 'scrollWidth' | 'scrollHeight'): Promise<number> {
  const value: unknown = await page.evaluate(`document.documentElement.${which}`);
  return Number(value);
}

/** What the audit reads of axe-core's results. */
interface AxeViolation {
  readonly id: string;
  readonly impact?: string | null;
  readonly help: string;
  readonly nodes: readonly { readonly target: readonly string[] }[];
}

/**
 * A screenshot of the whole page. Timeline items off screen are not painted
 * (`content-visibility: auto`), so the viewport grows to the page's height first, until the
 * height settles as the items it brings on screen get their real size.
 */
async function screenshotWhole(page: Page, path: string): Promise<void> {
  const width = page.viewportSize()?.width ?? 1280;
  for (let i = 0; i < 6; i += 1) {
    const height = await scrollSize(page, 'scrollHeight');
    if ((page.viewportSize()?.height ?? 0) >= height) break;
    await page.setViewportSize({ width, height });
    await page.evaluate('new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)))');
  }
  await page.screenshot({ path, fullPage: true });
}

describe.skipIf(UNAVAILABLE !== undefined)('SMART app in headless Chromium', () => {
  beforeAll(async () => {
    await ensureAppBuild({ log: (line) => console.log(line) });
    stack = await startAppStack({
      patients: DEMO_PATIENTS,
      ehrs: [{}, { accessTokenLifetimeSec: SHORT_TOKEN_SEC, refreshTokenLifetimeSec: SHORT_TOKEN_SEC }],
      startEngine: (settings) => startTestEngine({ env: { ...settings } }),
    });
    const now = new Date();
    const runId = randomBytes(3).toString('hex');
    const messages = [...buildDemoFeeds({ now, runId }), criticalHemoglobin(now, runId)].sort(
      (a, b) => a.at.getTime() - b.at.getTime(),
    );
    await sendInOrder(stack.engine, messages);
    browser = await launchChromium();
    mkdirSync(SCREENSHOTS, { recursive: true });
  }, 180_000);

  afterAll(async () => {
    await browser?.close();
    await stack?.close();
    await stack?.engine.destroy();
  });

  afterEach(async () => {
    await Promise.all(contexts.splice(0).map((c) => c.close()));
    const errors = pageErrors;
    pageErrors = [];
    consoleErrors = [];
    expect(errors, 'uncaught errors in the app').toEqual([]);
  });

  it('launches inside the EHR’s chart iframe: authorize with PKCE S256, redirect, timeline of three facilities', async () => {
    const page = await newPage();
    const authorizeRequests: URL[] = [];
    page.on('request', (req) => {
      const url = new URL(req.url());
      if (url.pathname === '/authorize') authorizeRequests.push(url);
    });
    await page.goto(`${stack.ehrs[0]!.url}ehr/okafor-margaret`);
    const frame = page.frameLocator('iframe');
    await timelineOf(frame);

    expect(authorizeRequests).toHaveLength(1);
    const authorize = authorizeRequests[0]!.searchParams;
    expect(authorize.get('code_challenge_method')).toBe('S256');
    expect(authorize.get('code_challenge')).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(authorize.get('launch')).toEqual(expect.any(String));
    expect(authorize.get('aud')).toBe(stack.ehrs[0]!.iss);
    // The app stays in the frame and takes the code out of its address once used.
    const appFrame = page.frames().find((f) => f.url().startsWith(stack.appUrl));
    expect(appFrame, 'the app in the iframe').toBeDefined();
    expect(new URL(appFrame!.url()).searchParams.get('code')).toBeNull();

    await expect.poll(() => frame.locator('.summary').textContent()).toMatch(/from 3 facilities/);
    const legend = await frame.locator('ul.legend li').allTextContents();
    expect(legend.map((l) => l.trim()).sort()).toEqual([MERCY, RIVERSIDE, ST_JOHNS].sort());
    expect(await frame.locator('.banner-name').textContent()).toMatch(/Okafor/);
    await page.screenshot({ path: join(SCREENSHOTS, 'ehr-chart-1280.png') });
  });

  it('shows the linked patient’s encounters and results from every facility, newest first', async () => {
    const page = await newPage();
    await launch(page, 'okafor-margaret');
    const list = await timelineOf(page);
    expect(new URL(page.url()).pathname).toBe('/app/');

    const encounters = list.locator('article.card:not(.card-lab)');
    const labs = list.locator('article.card-lab');
    // Riverside's outpatient visit, St. John's ED visit, Mercy's ED arrival and admission (one
    // stay); five lab reports, the critical one added here among them.
    expect(await encounters.count()).toBe(3);
    expect(await labs.count()).toBe(5);
    expect(new Set(await cardFacilities(encounters))).toEqual(new Set([MERCY, ST_JOHNS, RIVERSIDE]));
    expect(new Set(await cardFacilities(labs))).toEqual(new Set([MERCY, ST_JOHNS, RIVERSIDE]));
    const stay = encounters.filter({ hasText: 'Inpatient stay' });
    await expect.poll(() => stay.textContent()).toMatch(/Heart failure/);
    expect(await stay.textContent()).toMatch(/Discharged to\s*Skilled nursing facility/);

    // Each card's first time: an encounter's start, a report's collection.
    const times: number[] = [];
    for (const card of await list.locator('article').all()) {
      times.push(Date.parse((await card.locator('.span time').first().getAttribute('datetime')) ?? ''));
    }
    expect(times).toHaveLength(8);
    expect([...times].sort((a, b) => b - a)).toEqual(times);
    expect(await page.locator('p.count').textContent()).toBe('Showing all 8 events, newest first.');
  });

  it('narrows the timeline by facility and by kind of event, and clears the filters', async () => {
    const page = await newPage();
    await launch(page, 'okafor-margaret');
    const list = await timelineOf(page);
    await page.locator('details.filters > summary').click();

    await page.getByRole('checkbox', { name: MERCY }).check();
    await expect
      .poll(() => page.locator('p.count').textContent())
      .toBe('Showing 3 of 8 events, newest first.');
    expect(new Set(await cardFacilities(list))).toEqual(new Set([MERCY]));
    expect(await page.locator('details.filters > summary').textContent()).toBe('Filters (1 active)');

    await page.getByRole('checkbox', { name: MERCY }).uncheck();
    await page.getByRole('checkbox', { name: 'Lab results' }).check();
    await expect
      .poll(() => page.locator('p.count').textContent())
      .toBe('Showing 5 of 8 events, newest first.');
    expect(await list.locator('article.card:not(.card-lab)').count()).toBe(0);

    await page.getByRole('button', { name: 'Clear filters' }).click();
    await expect
      .poll(() => page.locator('p.count').textContent())
      .toBe('Showing all 8 events, newest first.');
  });

  it('draws the trend of a test with results over time at several facilities', async () => {
    const page = await newPage();
    await launch(page, 'okafor-margaret');
    await timelineOf(page);
    await page.getByRole('button', { name: 'Show a trend' }).click();
    const trend = page.locator('section.trend');
    await trend.waitFor();
    const picker = trend.getByRole('combobox', { name: 'Test' });
    const hemoglobin = await picker.locator('option', { hasText: /^Hemoglobin/ }).getAttribute('value');
    expect(hemoglobin, 'a Hemoglobin option').toEqual(expect.any(String));
    await picker.selectOption(hemoglobin ?? '');
    await expect.poll(() => trend.locator('#trend-heading').textContent()).toMatch(/^Trend: Hemoglobin/);

    // uPlot draws on a canvas in the chart's host, which the lazy chunk fills in.
    const canvas = trend.locator('.trend-chart canvas');
    await canvas.first().waitFor({ timeout: 10_000 });
    const box = await canvas.first().boundingBox();
    expect(box?.width ?? 0).toBeGreaterThan(200);
    expect(await trend.locator('.trend-chart').getAttribute('aria-label')).toMatch(
      /3 results from 2 facilities/,
    );
    const rows = trend.locator('table.results tbody tr');
    expect(await rows.count()).toBe(3);
    const facilities = await rows.locator('td:last-child').allTextContents();
    expect(new Set(facilities)).toEqual(new Set([MERCY, ST_JOHNS]));
    // The newest value first: the critical one of yesterday.
    expect(await rows.first().textContent()).toMatch(/6\.1.*Critical low/);
  });

  it('flags a critical result and marks a corrected one', async () => {
    const page = await newPage();
    await launch(page, 'okafor-margaret');
    const list = await timelineOf(page);

    const attention = page.locator('section.attention');
    const critical = attention.locator('ul.recent-results li').filter({ hasText: 'Critical low' });
    expect(await critical.count()).toBe(1);
    expect(await critical.textContent()).toMatch(new RegExp(ST_JOHNS));
    const criticalCard = list.locator('article.card-lab').filter({ has: page.locator('.badge-critical') });
    expect(await criticalCard.count()).toBe(1);
    expect(await criticalCard.locator('ul.flagged').textContent()).toMatch(/Hemoglobin.*6\.1.*Critical low/);

    // Mercy's potassium 6.9 was corrected to 5.4: the report and the result say so.
    const corrected = list.locator('article.card-lab').filter({ has: page.locator('.badge-corrected') });
    expect(await corrected.count()).toBe(1);
    expect(await cardFacilities(corrected)).toEqual([MERCY]);
    const line = corrected.locator('ul.flagged li').filter({ hasText: 'Potassium' });
    expect(await line.textContent()).toMatch(/5\.4.*High.*Corrected/);
    expect(await corrected.textContent()).not.toMatch(/6\.9/);
  });

  it('ends an expired EHR session with “open this app from your EHR”, not a crash', async () => {
    const page = await newPage();
    await launch(page, 'okafor-margaret', stack.ehrs[1]);
    await timelineOf(page);
    // Past both the access and the refresh token's life: nothing can renew the session now.
    await page.waitForTimeout((SHORT_TOKEN_SEC + 1.5) * 1000);
    await page.reload();
    const alert = page.getByRole('alert');
    await alert.waitFor({ timeout: 15_000 });
    expect(await alert.textContent()).toMatch(/Your session has ended.*Open this app from your EHR again/);
    expect(await page.locator('ol.timeline').count()).toBe(0);
    // Which a new launch from the EHR resolves.
    await launch(page, 'okafor-margaret', stack.ehrs[1]);
    await timelineOf(page);

    // And a page opened without any launch says where to open it.
    const direct = await newPage();
    await direct.goto(stack.appUrl);
    await direct.getByRole('alert').waitFor();
    expect(await direct.getByRole('alert').textContent()).toMatch(/Open this app from your EHR/);
    await direct.goto(`${stack.appUrl}launch.html`);
    await expect
      .poll(() => direct.locator('#launch-status').textContent())
      .toBe('Open this app from your EHR');
  });

  it('shows a twin only his own records', async () => {
    const page = await newPage();
    await launch(page, 'lindqvist-evan');
    const list = await timelineOf(page);
    expect(await page.locator('.banner-name').textContent()).toMatch(/Evan/);
    const text = (await list.textContent()) ?? '';
    expect(text).toMatch(/fracture of the lower end of right radius/);
    expect(text).not.toMatch(/asthma/i);
    // Evan's ED visit at St. John's, his clinic visit and its labs at Mercy; none of Ethan's.
    expect(await list.locator('article.card:not(.card-lab)').count()).toBe(2);
    expect(await list.locator('article.card-lab').count()).toBe(1);
    expect(new Set(await cardFacilities(list))).toEqual(new Set([MERCY, ST_JOHNS]));
  });

  it('shows a patient with no hospital records as empty, not as an error', async () => {
    const page = await newPage();
    await launch(page, 'rahman-aisha');
    const empty = page.locator('.status-empty');
    await empty.waitFor({ timeout: 20_000 });
    expect(await empty.getAttribute('role')).toBe('status');
    expect(await empty.textContent()).toMatch(/No hospital records found for this patient/);
    expect(await page.getByRole('alert').count()).toBe(0);
    expect(await page.locator('.banner-name').textContent()).toMatch(/Rahman/);
  });

  it('has no serious or critical axe-core violations on the timeline, with filters and trend open', async () => {
    const page = await newPage();
    await launch(page, 'okafor-margaret');
    await timelineOf(page);
    await page.evaluate(axe.source);
    const audit = async (): Promise<string[]> => {
      const found: unknown = await page.evaluate('axe.run(document).then((r) => r.violations)');
      const violations = found as AxeViolation[];
      return violations
        .filter((v) => v.impact === 'serious' || v.impact === 'critical')
        .map(
          (v) =>
            `${v.id} (${v.impact ?? ''}): ${v.help} — ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`,
        );
    };
    expect(await audit()).toEqual([]);
    await page.locator('details.filters > summary').click();
    await page.getByRole('button', { name: 'Show a trend' }).click();
    await page.locator('.trend-chart canvas').first().waitFor();
    await page.locator('article.card-lab details.more > summary').first().click();
    expect(await audit()).toEqual([]);
  });

  it('lays out at 390 px and 1280 px wide, and saves screenshots of both', async () => {
    for (const width of [390, 1280]) {
      const page = await newPage({ width, height: 844 });
      await launch(page, 'okafor-margaret');
      await timelineOf(page);
      const scrollWidth = await scrollSize(page, 'scrollWidth');
      expect(scrollWidth, `no sideways scrolling at ${width} px`).toBeLessThanOrEqual(width);
      expect(await page.locator('#timeline-heading').isVisible()).toBe(true);
      const file = join(SCREENSHOTS, `timeline-${width}.png`);
      await screenshotWhole(page, file);
      expect(statSync(file).size).toBeGreaterThan(10_000);
    }
  });
});
