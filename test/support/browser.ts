import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { networkInterfaces } from 'node:os';
import type { Page } from 'playwright-core';
import { describe } from 'vitest';
import { chromiumPath as executablePath } from './chromium.js';

export { launchChromium } from './chromium.js';

const required = () => process.env.CI === 'true' || process.env.REQUIRE_SERVICES === '1';

/**
 * An IPv4 address of this machine other than loopback: browsers treat loopback as a secure
 * context (no upgrade to https, COOP honoured), which is not what a user on another machine gets.
 */
export const lanAddress = Object.values(networkInterfaces())
  .flat()
  .find((address) => address?.family === 'IPv4' && !address.internal)?.address;

const reason = !existsSync(executablePath)
  ? `no Chromium at ${executablePath} (apt-get install chromium, or set CHROMIUM_PATH)`
  : lanAddress === undefined
    ? 'this machine has no IPv4 address besides loopback'
    : '';
if (reason !== '') {
  const message = `Browser tests cannot run: ${reason}`;
  if (required()) throw new Error(`${message}, and CI=true/REQUIRE_SERVICES=1 requires them.`);
  process.stderr.write(`\n!!! ${message}: every browser test in this file is SKIPPED.\n\n`);
}

/** `describe` for suites that drive Chromium: skipped loudly without it. */
export const describeWithBrowser = describe.skipIf(reason !== '');

/** Screenshots land here for a look after the run (git ignores the folder). */
export async function screenshot(page: Page, name: string): Promise<string> {
  mkdirSync('test-results/browser', { recursive: true });
  const path = `test-results/browser/${name}.png`;
  await page.screenshot({ path, fullPage: false });
  return path;
}

/**
 * What went wrong on a page while it was open: console errors (a CSP violation is one), failed
 * requests, error replies and requests to any origin but `origin`. Chromium's notes that COOP and
 * Origin-Agent-Cluster are ignored on an origin that is not a secure context (plain HTTP by
 * address) are expected there, not problems; nor is a 404 from a room route (the concert has none).
 */
export function watchProblems(page: Page, origin: string): string[] {
  const problems: string[] = [];
  const expected = /Cross-Origin-Opener-Policy header has been ignored|origin-keyed agent cluster/;
  page.on('console', (message) => {
    // A failed load is reported below with its address.
    const failedLoad = message.text().startsWith('Failed to load resource');
    if (message.type() === 'error' && !expected.test(message.text()) && !failedLoad)
      problems.push(`console: ${message.text()}`);
  });
  // A concert without a room of its own answers 404 ROOM_NOT_FOUND: the pages ask to learn that.
  const noRoom = /\/api\/v1\/(?:queue|admin)\/rooms\/[0-9]+$/;
  page.on('response', (response) => {
    if (response.status() === 404 && noRoom.test(response.url())) return;
    if (response.status() >= 400) problems.push(`${response.status()}: ${response.url()}`);
  });
  page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
  page.on('requestfailed', (request) =>
    problems.push(`failed: ${request.url()} ${request.failure()?.errorText ?? ''}`),
  );
  page.on('request', (request) => {
    if (!request.url().startsWith(`${origin}/`) && !request.url().startsWith('data:'))
      problems.push(`request to another origin: ${request.url()}`);
  });
  return problems;
}

const axeSource = readFileSync(
  createRequire(import.meta.url).resolve('axe-core/axe.min.js'),
  'utf8',
);

/**
 * axe-core's serious and critical violations on the page as it is now, one line each. axe is
 * evaluated through the DevTools protocol, which the page's CSP does not govern (an injected
 * <script> would be refused, as it should be).
 */
export async function seriousA11yViolations(page: Page): Promise<string[]> {
  await page.evaluate(axeSource);
  const violations = await page.evaluate<AxeResults['violations']>(
    'axe.run().then((results) => results.violations)',
  );
  return violations
    .filter((violation) => violation.impact === 'serious' || violation.impact === 'critical')
    .map((violation) => `${violation.id}: ${violation.nodes.map((node) => node.target).join(' ')}`);
}

interface AxeResults {
  violations: { id: string; impact?: string | null; nodes: { target: string[] }[] }[];
}

export const PHONE = { width: 390, height: 844 };
export const DESKTOP = { width: 1280, height: 900 };

/**
 * One screen as a phone and a desktop show it: a screenshot of each (`<name>-phone`,
 * `<name>-desktop`) and axe's serious or critical violations at both sizes (none expected).
 */
export async function captureScreen(page: Page, name: string): Promise<string[]> {
  const before = page.viewportSize() ?? DESKTOP;
  const violations: string[] = [];
  for (const [size, viewport] of [
    ['phone', PHONE],
    ['desktop', DESKTOP],
  ] as const) {
    await page.setViewportSize(viewport);
    await screenshot(page, `${name}-${size}`);
    violations.push(...(await seriousA11yViolations(page)).map((line) => `${size}: ${line}`));
  }
  await page.setViewportSize(before);
  return violations;
}
