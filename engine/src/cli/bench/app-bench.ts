/**
 * The app part of `npm run bench` (`--only app`): how long a PCP waits for the SMART app, and how
 * much it makes the browser download. A patient with 500 timeline events at two hospitals arrives
 * over MLLP; headless Chromium then launches the app from the sandbox EHR, each run in a fresh
 * browser context (cold cache, new session), and the page itself times the first timeline item
 * from the moment the EHR sends it back to the app. The bundle is measured as gzip of the built
 * files, split into what the timeline page loads before its first render and the rest.
 */
import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import type { Browser } from 'playwright-core';
import { ensureAppBuild, SMART_APP_DIR } from '../ensure-app-build';
import { sendDemoFeeds, waitForProcessing } from '../sandbox-ehr/demo-feed-sender';
import type { DemoFeedMessage } from '../sandbox-ehr/demo-feeds';
import { DEMO_PATIENTS } from '../sandbox-ehr/demo-patients';
import { startAppStack } from './app-stack';
import type { TargetCheck } from './bench-report';
import { startBenchTarget, type BenchEnv, type BenchTarget } from './bench-target';
import { chromiumUnavailable, launchChromium } from './headless-chromium';
import { buildLongTimelineFeed, LONG_TIMELINE_PATIENT } from './long-timeline-feed';
import { installTimelineProbe, readTimelineTiming, waitForMark, type TimelineTiming } from './timeline-probe';

export const APP_TARGETS = { maxFirstRenderMs: 1500, maxBundleGzipKb: 250 } as const;

export interface AppBenchOptions {
  /** Timeline events of the patient. @defaultValue 500 */
  readonly events?: number;
  /** Launches timed (after one untimed). @defaultValue 5 */
  readonly runs?: number;
  readonly log: (line: string) => void;
}

/** One timed launch, ms. */
export interface AppRun extends TimelineTiming {
  /** From the EHR's launch link to the first item (includes launch.html and the authorize hop). */
  readonly launchToFirstItemMs: number;
}

export interface BundleSize {
  /** JS the timeline page loads before its first render (entry and modulepreloads), kB gzip. */
  readonly initialJsGzipKb: number;
  /** Every JS file of the build, lazy chunks (the trend chart) included, kB gzip. */
  readonly totalJsGzipKb: number;
  readonly cssGzipKb: number;
  readonly files: readonly { readonly file: string; readonly bytes: number; readonly gzipBytes: number }[];
}

export interface AppBenchResult {
  /** Events the patient has; `rendered` what the timeline listed. */
  readonly events: number;
  readonly rendered: number | undefined;
  readonly feed: { readonly messages: number; readonly seconds: number };
  readonly runs: readonly AppRun[];
  readonly firstRenderMs: { readonly p50: number; readonly max: number };
  readonly allItemsMs: { readonly p50: number; readonly max: number };
  readonly bundle: BundleSize;
  /** Why the browser part did not run, when it did not. */
  readonly skipped?: string;
}

/** kB as Vite's build report counts them. */
const KB = 1000;

/**
 * Sizes of the build in `smart-app/dist`: the timeline page's own scripts (index.html's module
 * entry and modulepreloads) and every file.
 * @param distDir - the build.
 */
export function measureBundle(distDir: string = join(SMART_APP_DIR, 'dist')): BundleSize {
  const assets = join(distDir, 'assets');
  const files = readdirSync(assets)
    .filter((f) => f.endsWith('.js') || f.endsWith('.css'))
    .map((file) => {
      const bytes = readFileSync(join(assets, file));
      return { file, bytes: bytes.length, gzipBytes: gzipSync(bytes).length };
    });
  const html = readFileSync(join(distDir, 'index.html'), 'utf8');
  const initial = new Set(
    [
      ...html.matchAll(
        /<(?:script[^>]+src|link[^>]+rel="modulepreload"[^>]+href)="[^"]*\/assets\/([^"]+\.js)"/g,
      ),
    ].map((m) => m[1]),
  );
  const sum = (pick: (f: string) => boolean): number =>
    files.filter((f) => pick(f.file)).reduce((n, f) => n + f.gzipBytes, 0) / KB;
  return {
    initialJsGzipKb: sum((f) => initial.has(f)),
    totalJsGzipKb: sum((f) => f.endsWith('.js')),
    cssGzipKb: sum((f) => f.endsWith('.css')),
    files,
  };
}

function summary(values: readonly number[]): { p50: number; max: number } {
  const sorted = [...values].sort((a, b) => a - b);
  return { p50: sorted[Math.floor((sorted.length - 1) / 2)] ?? Number.NaN, max: sorted.at(-1) ?? Number.NaN };
}

/**
 * Sends the first message of each hospital alone and waits for it, then the rest: two records of
 * one person created in concurrent transactions would be linked only by the identity sweep.
 */
async function sendFeed(target: BenchTarget, messages: readonly DemoFeedMessage[]): Promise<void> {
  const engine = target.engine;
  if (engine === undefined) throw new Error('the bench target has no engine');
  const firsts = [...new Map(messages.map((m) => [m.facility, m] as const)).values()].reverse();
  const send = async (batch: readonly DemoFeedMessage[]): Promise<void> => {
    const sent = await sendDemoFeeds({ host: '127.0.0.1', port: target.port, messages: batch });
    if (sent.problems.length > 0) throw new Error(`feed not accepted: ${sent.problems.join('; ')}`);
    const done = await waitForProcessing(
      engine.db,
      batch.map((m) => m.controlId),
      300_000,
    );
    if (done.failed > 0 || done.pending > 0) {
      throw new Error(`feed not processed: ${done.failed} failed, ${done.pending} pending`);
    }
  };
  for (const m of firsts) await send([m]);
  await send(messages.filter((m) => !firsts.includes(m)));
}

/** One launch in a fresh context: cold cache, no session. */
async function timedLaunch(browser: Browser, launchUrl: string): Promise<AppRun> {
  const context = await browser.newContext({
    viewport: { width: 1280, height: 900 },
    locale: 'en-US',
    timezoneId: 'America/Chicago',
  });
  try {
    const page = await context.newPage();
    await installTimelineProbe(page);
    const started = Date.now();
    await page.goto(launchUrl);
    await page.waitForURL((u) => u.pathname.endsWith('/app/'), { timeout: 30_000 });
    await readTimelineTiming(page, 30_000);
    await waitForMark(page, 'allItemsMs', 30_000);
    const timing = await readTimelineTiming(page, 1_000);
    const origin = await page.evaluate(() => performance.timeOrigin);
    return { ...timing, launchToFirstItemMs: origin + timing.firstItemMs - started };
  } finally {
    await context.close();
  }
}

/**
 * Runs the app benchmark against PostgreSQL and Redis of `env`.
 * @param env - the stores and mappings.
 * @param o - events, runs and where progress goes.
 */
export async function benchApp(env: BenchEnv, o: AppBenchOptions): Promise<AppBenchResult> {
  const events = o.events ?? 500;
  const runCount = o.runs ?? 5;
  const build = await ensureAppBuild({ log: o.log });
  if (build.status === 'unavailable') throw new Error(build.reason);
  const bundle = measureBundle();
  const unavailable = chromiumUnavailable();
  const empty = { p50: Number.NaN, max: Number.NaN };
  if (unavailable !== undefined) {
    o.log(`  app: ${unavailable}; measuring the bundle only`);
    const none = { events, rendered: undefined, feed: { messages: 0, seconds: 0 }, runs: [] };
    return { ...none, firstRenderMs: empty, allItemsMs: empty, bundle, skipped: unavailable };
  }
  const stack = await startAppStack({
    patients: [...DEMO_PATIENTS, LONG_TIMELINE_PATIENT],
    ehrs: [{}],
    startEngine: (settings) => startBenchTarget('engine', env, { http: true, settings }),
  });
  let browser: Browser | undefined;
  try {
    const messages = buildLongTimelineFeed({
      events,
      now: new Date(),
      runId: randomBytes(3).toString('hex'),
    });
    o.log(`  app: ${messages.length} messages for a patient with ${events} timeline events`);
    const feedStarted = Date.now();
    await sendFeed(stack.engine, messages);
    const feedSeconds = (Date.now() - feedStarted) / 1000;
    browser = await launchChromium();
    const ehr = stack.ehrs[0];
    if (ehr === undefined) throw new Error('no sandbox EHR');
    const launchUrl = `${ehr.url}launch/${LONG_TIMELINE_PATIENT.id}`;
    // Untimed: the engine's first $everything of this patient, the browser's first start.
    await timedLaunch(browser, launchUrl);
    const runs: AppRun[] = [];
    for (let i = 0; i < runCount; i += 1) {
      const run = await timedLaunch(browser, launchUrl);
      o.log(
        `  app: run ${i + 1}: first item ${run.firstItemMs.toFixed(0)} ms after the app page opened ` +
          `(exchange ${run.exchangedMs?.toFixed(0) ?? '?'}, data ${run.dataMs?.toFixed(0) ?? '?'}), ` +
          `all ${run.items ?? '?'} at ${run.allItemsMs?.toFixed(0) ?? '?'} ms`,
      );
      runs.push(run);
    }
    return {
      events,
      rendered: runs[0]?.items,
      feed: { messages: messages.length, seconds: feedSeconds },
      runs,
      firstRenderMs: summary(runs.map((r) => r.firstItemMs)),
      allItemsMs: summary(runs.flatMap((r) => (r.allItemsMs !== undefined ? [r.allItemsMs] : []))),
      bundle,
    };
  } finally {
    await browser?.close();
    await stack.close();
    await stack.engine.close();
  }
}

const ms = (n: number | undefined): string => (n === undefined || Number.isNaN(n) ? '?' : n.toFixed(0));

/** The app section of the results table. */
export function formatApp(r: AppBenchResult): string[] {
  const b = r.bundle;
  const lines = [
    `SMART app bundle (gzip): ${b.initialJsGzipKb.toFixed(1)} kB JS before the timeline's first render, ` +
      `${b.totalJsGzipKb.toFixed(1)} kB JS in all (lazy trend chart included), ${b.cssGzipKb.toFixed(1)} kB CSS`,
  ];
  if (r.skipped !== undefined) return [...lines, `SMART app first render: not run (${r.skipped})`];
  const p50 = (pick: (x: AppRun) => number | undefined): string =>
    ms(summary(r.runs.flatMap((x) => (pick(x) !== undefined ? [pick(x) ?? 0] : []))).p50);
  lines.push(
    `SMART app, ${r.events} events at 2 facilities (${r.feed.messages} HL7 messages processed in ${r.feed.seconds.toFixed(1)} s), ` +
      `${r.runs.length} launches in fresh browser contexts:`,
    `  first timeline item ${ms(r.firstRenderMs.p50)} ms p50, ${ms(r.firstRenderMs.max)} ms max after the app page opened ` +
      `(token exchange done at ${p50((x) => x.exchangedMs)} ms, engine data at ${p50((x) => x.dataMs)} ms, p50)`,
    `  all ${r.rendered ?? '?'} items rendered at ${ms(r.allItemsMs.p50)} ms p50; ` +
      `from the EHR's launch link to the first item ${p50((x) => x.launchToFirstItemMs)} ms p50`,
  );
  return lines;
}

/** The issue's targets for the app. */
export function appTargets(r: AppBenchResult): TargetCheck[] {
  const complete = r.rendered === r.events;
  return [
    {
      name: `SMART app first render, ${r.events} events (p50)`,
      measured:
        r.skipped !== undefined
          ? 'not run'
          : `${ms(r.firstRenderMs.p50)} ms${complete ? '' : `, ${r.rendered ?? 0} items listed`}`,
      target: `< ${APP_TARGETS.maxFirstRenderMs} ms`,
      pass: r.skipped === undefined && complete && r.firstRenderMs.p50 < APP_TARGETS.maxFirstRenderMs,
    },
    {
      name: 'SMART app JS bundle, gzip (all chunks)',
      measured: `${r.bundle.totalJsGzipKb.toFixed(1)} kB`,
      target: `< ${APP_TARGETS.maxBundleGzipKb} kB`,
      pass: r.bundle.totalJsGzipKb < APP_TARGETS.maxBundleGzipKb,
    },
  ];
}
