import { existsSync } from 'node:fs';

/** Debian's Chromium, which the browser tests drive through playwright-core (scripts/install-browser.sh). */
export const CHROMIUM = '/usr/bin/chromium';

/** Flags for a headless Chromium in a container: no sandbox, GPU or QUIC, no traffic of its own. */
export const CHROMIUM_ARGS: readonly string[] = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** Throws, saying how to install it, when Chromium is missing: a browser test fails rather than skips. */
export function requireChromium(): void {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`${CHROMIUM} is missing: run services/admin-web/scripts/install-browser.sh`);
  }
}
