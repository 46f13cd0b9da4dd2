/**
 * Times the SMART app's first render in the browser itself: an init script watches the DOM from
 * the first byte of each page and notes (in `performance.now()` of that page, i.e. since its
 * navigation started) when the timeline list gets its first item and when it has them all. The
 * engine requests' resource timings split that into "data arrived" and "rendered".
 */
import type { Page } from 'playwright-core';

/** What `readTimelineTiming` returns, in ms since the app page's navigation started. */
export interface TimelineTiming {
  /** The timeline list had its first item in the DOM. */
  readonly firstItemMs: number;
  /** The list was complete (no longer `aria-busy`). */
  readonly allItemsMs: number | undefined;
  /** Items in the list when it was complete. */
  readonly items: number | undefined;
  /** The token exchange at the engine answered. */
  readonly exchangedMs: number | undefined;
  /** The last engine FHIR response before the first item showed. */
  readonly dataMs: number | undefined;
}

/** The script, run in every page before its own scripts. */
const PROBE = `(() => {
  const mark = {};
  window.__timelineProbe = mark;
  const check = () => {
    const list = document.querySelector('ol.timeline');
    if (list === null) return;
    if (mark.firstItemMs === undefined && list.children.length > 0) mark.firstItemMs = performance.now();
    if (mark.allItemsMs === undefined && list.getAttribute('aria-busy') === 'false') {
      mark.allItemsMs = performance.now();
      mark.items = list.children.length;
    }
  };
  new MutationObserver(check).observe(document, {
    subtree: true, childList: true, attributes: true, attributeFilter: ['aria-busy'],
  });
})();`;

/**
 * Reads the marks and the engine requests' timings. A string, not a function: tsx (esbuild with
 * keepNames) would wrap a function's inner helpers in a `__name` the page does not have.
 */
const READ = `(() => {
  const mark = window.__timelineProbe ?? {};
  const first = mark.firstItemMs ?? Number.NaN;
  // The engine serves the app, so its requests are the page's own origin; the EHR's are not.
  const ends = (suffix) => performance.getEntriesByType('resource')
    .filter((r) => {
      const u = new URL(r.name);
      return u.origin === location.origin && u.pathname.includes(suffix) && r.responseEnd <= first;
    })
    .map((r) => r.responseEnd);
  const latest = (xs) => (xs.length > 0 ? Math.max(...xs) : undefined);
  return {
    firstItemMs: first,
    allItemsMs: mark.allItemsMs,
    items: mark.items,
    exchangedMs: latest(ends('/auth/token')),
    dataMs: latest(ends('/fhir/')),
  };
})()`;

/** The probe's marks as the page holds them (`globalThis`: the engine's tsconfig has no DOM). */
type ProbeGlobal = typeof globalThis & { __timelineProbe?: Record<string, number | undefined> };

/**
 * Waits until the probe has set `mark` in the app page. A function, not a string: a string
 * predicate is `eval`ed in the page, which the app's CSP (no 'unsafe-eval') refuses.
 * @param page - the page showing the app.
 * @param mark - `firstItemMs` or `allItemsMs`.
 * @param timeoutMs - how long to wait.
 */
export async function waitForMark(
  page: Page,
  mark: 'firstItemMs' | 'allItemsMs',
  timeoutMs: number,
): Promise<void> {
  await page.waitForFunction(
    (name) => (globalThis as ProbeGlobal).__timelineProbe?.[name] !== undefined,
    mark,
    { timeout: timeoutMs },
  );
}

/** Installs the probe in every page `page` opens from now on. */
export async function installTimelineProbe(page: Page): Promise<void> {
  await page.addInitScript({ content: PROBE });
}

/**
 * The probe's marks for the app page now open, once the first item has shown.
 * @param page - the page (or the EHR frame's page) showing the app.
 * @param timeoutMs - how long to wait for the first item.
 */
export async function readTimelineTiming(page: Page, timeoutMs: number): Promise<TimelineTiming> {
  await waitForMark(page, 'firstItemMs', timeoutMs);
  const timing: unknown = await page.evaluate(READ);
  return timing as TimelineTiming;
}
