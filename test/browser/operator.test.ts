import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import {
  captureScreen,
  describeWithBrowser,
  DESKTOP,
  lanAddress,
  launchChromium,
  watchProblems,
} from '../support/browser.js';
import { createTestDatabase, type TestDatabase } from '../support/db.js';
import { setBalance } from '../support/fixtures.js';
import { invariantViolations } from '../support/invariants.js';
import { startTestServer, type TestServer } from '../support/server.js';

const OPERATOR_KEY = 'console-test-operator-key-of-32-chars!!';

/** What the page waits on (a poll of the dashboard, a reply) on a loaded machine. */
const patient = { timeout: 15_000 };

/** A datetime-local value (the browser's zone is the machine's: Chromium is told none). */
function localInput(date: Date): string {
  const shifted = new Date(date.getTime() - date.getTimezoneOffset() * 60_000);
  return shifted.toISOString().slice(0, 16);
}

/**
 * The operator console in Debian's Chromium, as an operator runs a sale: sign in with the key
 * (a wrong one refused in words), create a venue and a concert with two price categories, open
 * its sale, watch API buyers' purchases reach the dashboard without a reload, refund one of them,
 * cancel the show and follow the job to the end, and find each action in the audit log. Each
 * screen is scanned with axe-core and photographed at phone and desktop sizes.
 */
describeWithBrowser('operator console in Chromium', () => {
  let db: TestDatabase;
  let server: TestServer;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let origin: string;

  beforeAll(async () => {
    db = await createTestDatabase();
    server = await startTestServer(db, { HOST: '0.0.0.0', OPERATOR_KEY });
    origin = `http://${lanAddress ?? ''}:${new URL(server.url).port}`;
    browser = await launchChromium();
    context = await browser.newContext({ viewport: DESKTOP, locale: 'en-US' });
    page = await context.newPage();
    page.setDefaultTimeout(20_000);
  });
  afterAll(async () => {
    await context?.close();
    await browser?.close();
    await server?.close();
    await db?.drop();
  });

  /** A buyer's purchase through the API: in line, let in, a free seat held and paid. */
  async function buy(userId: number, concertId: number): Promise<number> {
    const { client } = server;
    await setBalance(db.pool, userId, 1_000_000);
    const token = await client.activeToken(userId, 10_000);
    const seats = (await client.seats(token, concertId)).data.availableSeats;
    const seat = seats.find((candidate) => candidate.isAvailable);
    if (!seat) throw new Error('no free seat');
    const held = await client.hold(token, concertId, seat.seatId);
    expect(`${held.status} ${held.code}`).toBe('201 SUCCESS');
    const paid = await client.pay(token, seat.seatId);
    expect(paid.status).toBe(201);
    await client.leave(token);
    return paid.data.reservationId;
  }

  it('runs a sale: venue, concert, live dashboard, a refund, the show cancelled, the audit log', async () => {
    const problems = watchProblems(page, origin);
    await page.goto(`${origin}/operator`);
    expect(new URL(page.url()).pathname).toBe('/operator/');

    // A wrong key: refused in plain words, and not kept.
    await page.getByTestId('operator-key').fill('not-the-operator-key-not-the-operator-key');
    await page.getByTestId('operator-sign-in').click();
    await expect
      .poll(() => page.getByTestId('error').textContent(), patient)
      .toContain('operator key is wrong');
    expect(await page.evaluate("sessionStorage.getItem('overture.operator')")).toBeNull();
    expect(await captureScreen(page, 'operator-sign-in')).toEqual([]);
    await page.getByTestId('operator-key').fill(OPERATOR_KEY);
    await page.getByTestId('operator-sign-in').click();
    await expect.poll(() => page.getByTestId('new-concert').isVisible(), patient).toBe(true);
    expect(await page.evaluate("sessionStorage.getItem('overture.operator')")).toBe(OPERATOR_KEY);

    // A venue in the compact form: a standing floor and two seated rows.
    await page.getByTestId('nav-venues').click();
    await page.getByTestId('new-venue').click();
    await page.getByTestId('venue-name').fill('Console Hall');
    await page.getByTestId('venue-address').fill('1 Test-ro, Seoul');
    await page.getByTestId('section-name-0').fill('Floor');
    await page.getByTestId('section-kind-0').selectOption('general-admission');
    await page.getByTestId('section-capacity-0').fill('20');
    await page.getByTestId('add-section').click();
    await page.getByTestId('section-name-1').fill('Stalls');
    await page.getByTestId('section-rows-1').fill('A 10\nB 12');
    expect(await captureScreen(page, 'operator-venue-form')).toEqual([]);
    await page.getByTestId('create-venue').click();
    await expect.poll(() => page.getByTestId('venue-preview').isVisible(), patient).toBe(true);
    const venues = await admin<{ venueId: number; capacity: number }[]>('GET', '/venues');
    const venue = venues.find((candidate) => candidate.capacity === 42);
    expect(venue).toBeDefined();
    await page.getByTestId('preview-section-stalls').getByRole('button').click();
    await expect
      .poll(() => page.getByTestId('section-rows').textContent(), patient)
      .toMatch(/A · 10 seats[\s\S]*B · 12 seats/);
    expect(await captureScreen(page, 'operator-venues')).toEqual([]);

    // A concert with two categories, its sale opening tomorrow.
    await page.getByTestId('nav-concerts').click();
    await page.getByTestId('new-concert').click();
    await page.getByTestId('concert-title').fill('Console Gala');
    await page.getByTestId('concert-venue').selectOption(String(venue?.venueId));
    await page
      .getByTestId('concert-showAt')
      .fill(localInput(new Date(Date.now() + 72 * 3_600_000)));
    await page.getByTestId('concert-category-name-0').fill('Standing');
    await page.getByTestId('concert-category-price-0').fill('50000');
    await page.getByTestId('concert-category-sections-0').fill('Floor');
    await page.getByTestId('add-category').click();
    await page.getByTestId('concert-category-name-1').fill('VIP');
    await page.getByTestId('concert-category-price-1').fill('120000');
    await page.getByTestId('concert-category-sections-1').fill('Stalls');
    await page
      .getByTestId('concert-saleOpensAt')
      .fill(localInput(new Date(Date.now() + 24 * 3_600_000)));
    await page.getByTestId('concert-ticketLimit').fill('2');
    await page.getByTestId('save-concert').click();
    await expect.poll(() => page.getByTestId('notice').textContent(), patient).toMatch(/#\d+/);
    const concertId = Number(
      /#(\d+)/.exec((await page.getByTestId('notice').textContent()) ?? '')?.[1],
    );
    const concert = await admin<{
      ticketLimit: number;
      priceCategories: unknown[];
      saleOpensAt: string;
    }>('GET', `/concerts/${concertId}`);
    expect(concert.ticketLimit).toBe(2);
    expect(concert.priceCategories).toHaveLength(2);
    expect(new Date(concert.saleOpensAt).getTime()).toBeGreaterThan(Date.now());
    expect(await captureScreen(page, 'operator-concerts')).toEqual([]);

    // The dashboard; the sale opened from it; purchases arrive without a reload.
    await page.getByTestId(`dashboard-${concertId}`).click();
    await expect.poll(() => page.getByTestId('stat-sold').textContent(), patient).toBe('0');
    expect(await page.getByTestId('stat-free').textContent()).toBe('42');
    await page.getByTestId('open-sale').click();
    await expect.poll(() => page.getByTestId('notice').isVisible(), patient).toBe(true);
    const opened = await admin<{ saleOpensAt: string }>('GET', `/concerts/${concertId}`);
    expect(new Date(opened.saleOpensAt).getTime()).toBeLessThanOrEqual(Date.now());
    const first = await buy(5001, concertId);
    await buy(5002, concertId);
    await expect.poll(() => page.getByTestId('stat-sold').textContent(), patient).toBe('2');
    expect(await page.getByTestId('stat-free').textContent()).toBe('40');
    expect(await page.getByTestId('stat-revenue').textContent()).toMatch(/[1-9]/);
    // The charts drew more than one reading, and the line's figures come from /metrics.
    expect(
      Number(await page.getByTestId('stat-sold-chart').getAttribute('data-points')),
    ).toBeGreaterThan(1);
    expect(await page.getByTestId('stat-active').textContent()).toMatch(/^\d+$/);
    expect(await page.getByTestId('room-controls').isVisible()).toBe(true);
    expect(await captureScreen(page, 'operator-dashboard')).toEqual([]);

    // One buyer refunded by the operator, in full.
    await page.getByTestId('nav-operations').click();
    await expect.poll(() => page.getByTestId('no-dead-letters').isVisible(), patient).toBe(true);
    await page.getByTestId('reservation-id').fill(String(first));
    await page.getByTestId('cancel-reservation').click();
    await expect
      .poll(() => page.getByTestId('notice').textContent(), patient)
      .toContain(`#${first}`);
    expect(await captureScreen(page, 'operator-refunds')).toEqual([]);

    // The show cancelled: the job refunds the other buyer, and the page follows it to the end.
    await page.getByTestId('nav-concerts').click();
    await page.getByTestId(`dashboard-${concertId}`).click();
    await expect.poll(() => page.getByTestId('stat-sold').textContent(), patient).toBe('1');
    await page.getByTestId('cancel-show').click();
    await page.getByTestId('cancel-reason').fill('The hall flooded');
    await page.getByTestId('confirm-cancel-show').click();
    await expect
      .poll(() => page.getByTestId('job-state').getAttribute('data-state'), patient)
      .toBe('done');
    expect(await page.getByTestId('job-refunded').textContent()).toBe('1');
    expect(await page.getByTestId('job-remaining').textContent()).toBe('0');
    await expect.poll(() => page.getByTestId('stat-sold').textContent(), patient).toBe('0');
    expect(await captureScreen(page, 'operator-show-cancelled')).toEqual([]);

    // Every action in the audit log, newest first.
    await page.getByTestId('nav-audit').click();
    const actions = page.locator('[data-testid^="audit-entry-"]');
    await expect.poll(() => actions.count(), patient).toBeGreaterThanOrEqual(5);
    const logged: string[] = [];
    const ids: number[] = [];
    for (const row of await actions.all()) {
      const [action, target, testid] = await Promise.all(
        ['data-action', 'data-target', 'data-testid'].map((name) => row.getAttribute(name)),
      );
      logged.push(`${action ?? ''} ${target ?? ''}`);
      ids.push(Number(testid?.replace('audit-entry-', '')));
    }
    expect(logged).toEqual(
      expect.arrayContaining([
        `venue.create venue:${venue?.venueId}`,
        expect.stringMatching(/^concert\.create concert:/),
        `concert.update concert:${concertId}`,
        `reservation.cancel reservation:${first}`,
        `concert.cancel concert:${concertId}`,
      ]),
    );
    expect(ids).toEqual([...ids].sort((a, b) => b - a));
    expect(await captureScreen(page, 'operator-audit')).toEqual([]);

    // Korean, like the buyers' pages.
    await page.getByTestId('language').click();
    await expect
      .poll(() => page.getByTestId('nav-audit').textContent(), patient)
      .toContain('감사 로그');
    expect(await page.getAttribute('html', 'lang')).toBe('ko');
    await page.getByTestId('language').click();

    // The one error reply is the refused key; no request left this origin.
    expect(problems).toEqual([expect.stringMatching(/^401: .*\/api\/v1\/admin\/venues/)]);
    expect(await invariantViolations(db.pool)).toEqual([]);
  });

  it('lets a keyboard alone sign in and reach the dashboard', async () => {
    const keyboard = await context.newPage();
    await keyboard.goto(`${origin}/operator/`);
    // sessionStorage belongs to a tab: a new tab asks for the key again.
    await keyboard.getByTestId('operator-key').focus();
    await keyboard.keyboard.type(OPERATOR_KEY);
    await keyboard.keyboard.press('Enter');
    const dashboard = keyboard.locator('[data-testid^="dashboard-"]').first();
    await expect.poll(() => dashboard.isVisible(), patient).toBe(true);
    await dashboard.focus();
    await keyboard.keyboard.press('Enter');
    await expect.poll(() => keyboard.getByTestId('stat-sold').isVisible(), patient).toBe(true);
    // The new screen's heading took the focus, for screen readers and the keyboard.
    expect(await keyboard.evaluate('document.activeElement?.tagName')).toBe('H1');
    await keyboard.close();
  });

  const admin = <T>(method: string, path: string) =>
    server.client.operator(OPERATOR_KEY)<T>(method, path);
});
