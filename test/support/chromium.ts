import { chromium, type Browser } from 'playwright-core';

/**
 * Debian's Chromium (.ci/run installs it) as the browser tests and the measuring scripts
 * (scripts/measure-pow.ts, scripts/measure-web.ts) launch it: Playwright drives it, and never
 * downloads a browser. No vitest here: the scripts import it too.
 */
export const chromiumPath = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

export function launchChromium(executablePath = chromiumPath): Promise<Browser> {
  return chromium.launch({
    executablePath,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}
