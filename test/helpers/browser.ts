import { existsSync } from 'node:fs';
import { chromium, type Browser } from 'playwright-core';

/** Debian's Chromium, which .ci/run installs. */
export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/**
 * Whether the browser tests run: always in CI (where a missing browser fails them), and on a
 * developer's machine when Chromium is there (`apt-get install chromium`).
 */
export const HAVE_BROWSER = existsSync(CHROMIUM) || process.env.CI === 'true';
if (!HAVE_BROWSER) process.stdout.write(`browser tests skipped: no ${CHROMIUM} (apt-get install chromium; .ci/run does)\n`);

export async function launchBrowser(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: apt-get install chromium (.ci/run does), or set CHROMIUM_PATH`);
  // the flags keep Chromium from reaching for the network on its own (this machine has none)
  return chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}
