/**
 * `npm start` serves a current SMART app: when `smart-app/dist` is missing or older than any of
 * the app's sources, it is rebuilt with Vite's JS API before HTTP starts. The check is a walk of
 * a few dozen file times, so a start with a current build stays fast. An install without Vite
 * (production, dev dependencies omitted) serves whatever build it has.
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { InlineConfig } from 'vite';

/** The app's workspace in this checkout. */
export const SMART_APP_DIR = resolve(import.meta.dirname, '../../../smart-app');

/** What decides the build: sources, pages, and the config and manifest that shape it. */
const SOURCE_ENTRIES = [
  'src',
  'public',
  'index.html',
  'launch.html',
  'console.html',
  'vite.config.ts',
  'package.json',
];

/** Built pages; `console.html` only once the checkout has the console's entry page. */
function expectedPages(appDir: string): string[] {
  const pages = ['index.html', 'launch.html'];
  if (existsSync(join(appDir, 'console.html'))) pages.push('console.html');
  return pages;
}

export type AppBuildOutcome =
  | { readonly status: 'current' }
  | { readonly status: 'built'; readonly reason: string; readonly ms: number }
  | { readonly status: 'unavailable'; readonly reason: string };

export interface EnsureAppBuildOptions {
  /** @defaultValue SMART_APP_DIR */
  readonly appDir?: string;
  /** One line per step, for the person starting the engine. */
  readonly log: (line: string) => void;
}

/** Newest modification time (ms) under `path`; 0 when it does not exist. */
function newestMtime(path: string): number {
  if (!existsSync(path)) return 0;
  const stat = statSync(path);
  if (!stat.isDirectory()) return stat.mtimeMs;
  let newest = stat.mtimeMs;
  for (const entry of readdirSync(path)) newest = Math.max(newest, newestMtime(join(path, entry)));
  return newest;
}

/** Why the build is stale, or undefined when it is current. */
export function staleReason(appDir: string): string | undefined {
  if (!expectedPages(appDir).every((page) => existsSync(join(appDir, 'dist', page)))) {
    return 'smart-app/dist is missing';
  }
  // The oldest built page: a build that wrote some pages and not others is stale.
  const builtAt = Math.min(
    ...expectedPages(appDir).map((page) => statSync(join(appDir, 'dist', page)).mtimeMs),
  );
  const sources = Math.max(...SOURCE_ENTRIES.map((e) => newestMtime(join(appDir, e))));
  return sources > builtAt ? 'smart-app/dist is older than its sources' : undefined;
}

/** Builds the app when its build is missing or stale. */
export async function ensureAppBuild(options: EnsureAppBuildOptions): Promise<AppBuildOutcome> {
  const appDir = options.appDir ?? SMART_APP_DIR;
  const reason = staleReason(appDir);
  if (reason === undefined) return { status: 'current' };
  let build: (config: InlineConfig) => Promise<unknown>;
  try {
    ({ build } = await import('vite'));
  } catch {
    const served = existsSync(join(appDir, 'dist', 'index.html'));
    const why = `${reason} and Vite is not installed (npm ci installs it)`;
    options.log(
      `SMART app: ${why}; ${served ? 'serving the build there is' : '/app/ answers 503 until it is built'}`,
    );
    return { status: 'unavailable', reason: why };
  }
  options.log(`SMART app: ${reason}; building it (vite build smart-app)…`);
  const started = Date.now();
  await build({ root: appDir, configFile: join(appDir, 'vite.config.ts'), logLevel: 'warn' });
  const ms = Date.now() - started;
  options.log(`SMART app: built in ${ms} ms`);
  return { status: 'built', reason, ms };
}
