/**
 * The headless Chromium the SMART app's end-to-end tests and its benchmark drive: the system's
 * Debian `chromium` through playwright-core, which never downloads a browser of its own. Flags keep
 * it from reaching the network on its own (updates, sync) so a run only talks to loopback.
 */
import { existsSync } from 'node:fs';
import { chromium, type Browser } from 'playwright-core';

export const CHROMIUM_PATH = '/usr/bin/chromium';

export const CHROMIUM_ARGS: readonly string[] = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** Why Chromium cannot run here (one line), or undefined when it can. */
export function chromiumUnavailable(): string | undefined {
  return existsSync(CHROMIUM_PATH)
    ? undefined
    : `no Chromium at ${CHROMIUM_PATH} (apt-get install -y chromium)`;
}

/** Launches headless Chromium; close it with `browser.close()`. */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM_PATH, args: [...CHROMIUM_ARGS], headless: true });
}
