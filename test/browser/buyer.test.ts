import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, beforeEach, expect, it } from 'vitest';
import {
  captureScreen,
  describeWithBrowser,
  DESKTOP,
  lanAddress,
  launchChromium,
  watchProblems,
} from '../support/browser.js';
import { createTestDatabase, type TestDatabase } from '../support/db.js';
import { mintToken } from '../../src/modules/auth/mint.js';
import { createConcert, setBalance } from '../support/fixtures.js';
import { invariantViolations } from '../support/invariants.js';
import { startTestServer, type TestServer } from '../support/server.js';

const MAX_ACTIVE = 5;
const OPERATOR_KEY = 'web-client-test-operator-key-of-32-chars';

/** What the page waits on (the live stream, the map's refresh, a reply) on a loaded machine. */
const patient = { timeout: 15_000 };

/** The page closing its own live stream (a reload, or admission ends the wait): not a problem. */
const ownStreamClosed = /^failed: .*\/api\/v1\/queue\/token\/stream net::ERR_ABORTED$/;

/**
 * The buyers' web client in Debian's Chromium, opened by this machine's network address: a buyer
 * who waits in line, picks a seat on the map, pays and sees the ticket, while API buyers compete;
 * a refresh and a second tab keep the place in line. Every screen is scanned with axe-core and
 * photographed at phone and desktop sizes (test-results/browser/).
 */
describeWithBrowser('buyers’ web client in Chromium', () => {
  let db: TestDatabase;
  let server: TestServer;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let problems: string[];
  let origin: string;

  beforeAll(async () => {
    db = await createTestDatabase();
    server = await startTestServer(db, {
      HOST: '0.0.0.0',
      MAX_ACTIVE: String(MAX_ACTIVE),
      OPERATOR_KEY: OPERATOR_KEY,
    });
    origin = `http://${lanAddress ?? ''}:${new URL(server.url).port}`;
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
    await server?.close();
    await db?.drop();
  });
  beforeEach(async () => {
    context = await browser.newContext({ viewport: DESKTOP, locale: 'en-US' });
    page = await context.newPage();
    page.setDefaultTimeout(20_000);
    problems = watchProblems(page, origin);
  });
  afterEach(async () => {
    await context.close();
  });

  const signIn = async (target: Page, userId: number) => {
    await target.goto(`${origin}/`);
    await target.getByTestId('user-id').fill(String(userId));
    await target.getByTestId('sign-in').click();
  };
  const position = (target: Page) => target.getByTestId('queue-position').textContent();

  it('keeps the place in line across a refresh and a second tab, and moves it live', async () => {
    const { client } = server;
    // The room is full (MAX_ACTIVE shoppers) and one buyer waits: the browser's buyer is second.
    const shoppers: string[] = [];
    for (let user = 1; user <= MAX_ACTIVE; user++) shoppers.push(await client.activeToken(user));
    const ahead = (await client.join(100)).data.token;
    const { concertId } = await createConcert(db.pool, { seats: 5, title: 'House night' });

    // The list comes first, with no line joined; the concert's join takes the house room's line.
    await signIn(page, 9001);
    await page.getByTestId(`join-${concertId}`).click();
    await expect
      .poll(() => page.getByTestId('queue-status').textContent(), patient)
      .toContain('WAITING');
    await expect.poll(() => position(page), patient).toBe('2');
    expect(await captureScreen(page, 'buyer-waiting-room')).toEqual([]);
    const token = await page.evaluate<string | null>("localStorage.getItem('overture.queue.9001')");

    await page.reload();
    await expect.poll(() => position(page), patient).toBe('2');
    expect(await page.evaluate<string | null>("localStorage.getItem('overture.queue.9001')")).toBe(
      token,
    );
    const second = await context.newPage();
    await second.goto(`${origin}/`);
    await expect.poll(() => position(second), patient).toBe('2');

    // The one ahead leaves: both tabs see place 1 over the live stream, without a reload.
    await client.leave(ahead);
    await expect.poll(() => position(page), patient).toBe('1');
    await expect.poll(() => position(second), patient).toBe('1');
    // A shopper leaves: a slot frees and the buyer is let in, with the visual cue, straight onto
    // the seat map of the concert whose join sent it into the line (kept across the refresh).
    await client.leave(shoppers[0]!);
    await expect.poll(() => page.getByTestId('admitted').isVisible(), patient).toBe(true);
    const seats = page.locator('[data-testid^="seat-"]');
    await expect.poll(() => seats.count(), patient).toBe(5);
    const onMap = (await seats.first().getAttribute('data-testid'))!.slice('seat-'.length);
    const own = await db.pool.query('SELECT 1 FROM seats WHERE id = $1 AND concert_id = $2', [
      Number(onMap),
      concertId,
    ]);
    expect(own.rowCount).toBe(1);
    await page.getByRole('button', { name: 'My tickets' }).click();
    await page.getByRole('button', { name: 'Concerts', exact: true }).click();
    await expect
      .poll(() => page.getByTestId(`concert-${concertId}`).isVisible(), patient)
      .toBe(true);
    expect(await captureScreen(page, 'buyer-concerts')).toEqual([]);
    for (const shopper of shoppers.slice(1)) await client.leave(shopper);
    await client.leave(token ?? '');
    expect(problems.filter((problem) => !ownStreamClosed.test(problem))).toEqual([]);
  });

  // Race: 100 API buyers hold and pay random seats of the concert while the browser's buyer waits
  // behind them and then buys on the map. It proves the page shows what the database decided
  // (their seats sold, another's live hold held), that the browser's seat is none of theirs, and
  // that the ledger, holds and active-token invariants hold after the run.
  it('buys a seat through every screen while 100 API buyers compete for the same concert', async () => {
    const { client } = server;
    const concert = await createConcert(db.pool, {
      seats: 110,
      price: 10_000,
      title: 'Gala',
      // Beyond the default refund cut-off (24 hours before the show): the ticket can be cancelled.
      startsInHours: 72,
    });
    const apiBuyers = Array.from({ length: 100 }, (_, index) => 2001 + index);
    for (const user of apiBuyers) await setBalance(db.pool, user, 10_000);
    // The API buyers join first, so the browser's buyer waits behind them.
    const tokens = await Promise.all(apiBuyers.map(async (user) => (await client.join(user)).data));

    await signIn(page, 1001);
    await page.getByTestId(`join-${concert.concertId}`).click();
    await expect
      .poll(() => page.getByTestId('queue-status').textContent(), patient)
      .toContain('WAITING');
    expect(Number(await position(page))).toBeGreaterThan(50);

    // Each API buyer waits for its turn, then holds random free seats until one holds, and pays.
    const outcomes = await Promise.all(
      tokens.map(async ({ token }, index) => {
        const user = apiBuyers[index]!;
        while ((await client.status(token)).data.status !== 'ACTIVE')
          await new Promise((resolve) => setTimeout(resolve, 100));
        for (let attempt = 0; attempt < 20; attempt++) {
          const free = (await client.seats(token, concert.concertId)).data.availableSeats.filter(
            (seat) => seat.isAvailable,
          );
          const seat = free[Math.floor(Math.random() * free.length)];
          if (!seat) break;
          if ((await client.hold(token, concert.concertId, seat.seatId)).status !== 201) continue;
          const paid = await client.pay(token, seat.seatId);
          if (paid.status === 201) return paid.data.seatId;
          throw new Error(`user ${user}: payment ${paid.status} ${paid.code}`);
        }
        await client.leave(token);
        return undefined;
      }),
    );

    await expect
      .poll(() => page.getByTestId('admitted').isVisible(), { timeout: 60_000 })
      .toBe(true);
    // Let in, straight to the seat map of the concert whose join sent the buyer into the line.
    const free = page.locator('[data-testid^="seat-"][data-state="free"]');
    await expect.poll(() => free.count(), patient).toBeGreaterThan(0);
    expect(await captureScreen(page, 'buyer-seat-map')).toEqual([]);
    // The map shows the API buyers' seats as sold without a reload.
    const sold = page.locator('[data-testid^="seat-"][data-state="sold"]');
    await expect
      .poll(() => sold.count(), patient)
      .toBe(outcomes.filter((seat) => seat !== undefined).length);

    // Someone else holds a seat now: the map shows it held (not sold) without a reload.
    const other = await client.activeToken(3001);
    const otherSeat = Number(
      (await free.last().getAttribute('data-testid'))!.slice('seat-'.length),
    );
    expect((await client.hold(other, concert.concertId, otherSeat)).status).toBe(201);
    await expect
      // The map is read again every 2 s.
      .poll(() => page.getByTestId(`seat-${otherSeat}`).getAttribute('data-state'), patient)
      .toBe('held');

    // Keyboard only: focus a free seat, Enter holds it.
    const seatId = Number((await free.first().getAttribute('data-testid'))!.slice('seat-'.length));
    await page.getByTestId(`seat-${seatId}`).focus();
    await page.keyboard.press('Enter');
    await expect
      .poll(() => page.getByTestId(`seat-${seatId}`).getAttribute('data-state'), patient)
      .toBe('mine');
    const first = Number(await page.getByTestId('hold-countdown').getAttribute('data-seconds'));
    expect(first).toBeGreaterThan(200);
    expect(first).toBeLessThanOrEqual(300);
    expect(await captureScreen(page, 'buyer-seat-held')).toEqual([]);

    await page.getByTestId('checkout').click();
    await expect.poll(() => page.getByTestId('balance').textContent(), patient).toContain('0');
    // Paying with nothing on the balance is refused in plain words, and changes nothing.
    await page.getByTestId('pay').click();
    await expect
      .poll(() => page.getByTestId('error').textContent(), patient)
      .toContain('balance is too low');
    await page.getByTestId('charge-amount').fill('10000');
    await page.getByTestId('charge').click();
    await expect.poll(() => page.getByTestId('balance').textContent(), patient).toContain('10,000');
    expect(await captureScreen(page, 'buyer-checkout')).toEqual([]);
    // The countdown went on from where it was: never reset by the screens in between.
    const later = Number(await page.getByTestId('hold-countdown').getAttribute('data-seconds'));
    expect(later).toBeLessThanOrEqual(first);
    await page.getByTestId('pay').click();

    const ticket = page.locator('[data-testid^="ticket-"]');
    await expect.poll(() => ticket.count(), patient).toBe(1);
    expect(await captureScreen(page, 'buyer-tickets')).toEqual([]);
    const mine = (await client.mine(1001)).data;
    expect(mine.map((reservation) => reservation.seatId)).toEqual([seatId]);
    expect(outcomes).not.toContain(seatId);

    // Cancel: the confirmation first, then the refund on the balance.
    const reservationId = mine[0]!.reservationId;
    await page.getByTestId(`cancel-${reservationId}`).click();
    await page.getByTestId(`confirm-cancel-${reservationId}`).click();
    await expect
      .poll(() => page.getByTestId(`ticket-${reservationId}`).getAttribute('data-status'), patient)
      .toBe('CANCELLED');
    await expect.poll(() => page.getByTestId('balance').textContent(), patient).toContain('10,000');

    expect(
      await invariantViolations(db.pool, { maxActive: MAX_ACTIVE, queue: server.queue }),
    ).toEqual([]);
    // The one refusal the test asked for (paying with no balance) is the one error reply.
    const unexpected = problems.filter((problem) => !ownStreamClosed.test(problem));
    expect(unexpected).toEqual([expect.stringMatching(/^402: .*\/api\/v1\/reservations$/)]);
  });

  it('signs in from a #token= link with AUTH_MODE=jwt, and says so when a pasted token is not valid', async () => {
    const secret = 'web-client-test-jwt-secret-of-32-chars!';
    const jwtServer = await startTestServer(db, {
      HOST: '0.0.0.0',
      AUTH_MODE: 'jwt',
      JWT_SECRET: secret,
    });
    try {
      const jwtOrigin = `http://${lanAddress ?? ''}:${new URL(jwtServer.url).port}`;
      const jwtPage = await context.newPage();
      const jwtProblems = watchProblems(jwtPage, jwtOrigin);
      await jwtPage.goto(`${jwtOrigin}/`);
      await jwtPage.locator('summary').click();
      await jwtPage.locator('#jwt').fill('not-a-token');
      await jwtPage.getByTestId('sign-in-token').click();
      await expect
        .poll(() => jwtPage.getByTestId('error').textContent(), patient)
        .toContain('not valid');
      const token = await mintToken(
        { JWT_ALGORITHM: 'HS256', JWT_SECRET: secret, JWT_ISSUER: '', JWT_AUDIENCE: '' },
        { userId: 7001 },
      );
      await jwtPage.goto(`${jwtOrigin}/#token=${token}`);
      // Signed in: the public list (no line joined), the JWT gone from the address.
      await expect
        .poll(() => jwtPage.locator('[data-testid^="concert-"]').count(), patient)
        .toBeGreaterThan(0);
      expect(jwtPage.url()).toBe(`${jwtOrigin}/`);
      // The one error reply is the refused token.
      expect(jwtProblems.filter((problem) => !ownStreamClosed.test(problem))).toEqual([
        expect.stringMatching(/^401: .*\/api\/v1\/balance$/),
      ]);
    } finally {
      await jwtServer.close();
    }
  });

  it('shows a venue’s map a section at a time, with rows, labels and price categories', async () => {
    const admin = (path: string, body: unknown) =>
      server.client.call<{ venueId: number; concertId: number }>('POST', `/api/v1/admin${path}`, {
        headers: { authorization: `Bearer ${OPERATOR_KEY}` },
        body,
      });
    const venue = await admin('/venues', {
      name: 'Arena',
      address: '424 Olympic-ro, Seoul',
      sections: [
        { name: 'Floor', kind: 'general-admission', capacity: 30 },
        {
          name: '101',
          rows: [
            { name: 'A', seats: 12 },
            { name: 'B', seats: 12 },
          ],
        },
      ],
    });
    const concert = await admin('/concerts', {
      title: 'Arena night',
      venueId: venue.data.venueId,
      showAt: new Date(Date.now() + 72 * 3_600_000).toISOString(),
      priceCategories: [
        { name: 'Standing', price: 90_000, sections: ['Floor'] },
        { name: 'VIP', price: 150_000, sections: ['101'] },
      ],
    });
    expect(concert.status).toBe(201);
    await signIn(page, 8001);
    await page.getByTestId(`join-${concert.data.concertId}`).click();
    const sections = page.locator('[data-testid^="section-"]');
    await expect.poll(() => sections.count(), patient).toBe(2);
    // The first section (general admission) is shown, then the seated one on request.
    const seats = page.locator('[data-testid^="seat-"]');
    await expect.poll(() => seats.count(), patient).toBe(30);
    await sections.nth(1).click();
    await expect.poll(() => seats.count(), patient).toBe(24);
    expect(await sections.nth(1).getAttribute('aria-pressed')).toBe('true');
    expect(await seats.first().getAttribute('aria-label')).toContain('A-1, VIP');
    expect(await captureScreen(page, 'buyer-sections')).toEqual([]);
    expect(problems.filter((problem) => !ownStreamClosed.test(problem))).toEqual([]);
  });

  it('signs in, in Korean from the browser’s language, and switches to English', async () => {
    await context.close();
    context = await browser.newContext({ viewport: DESKTOP, locale: 'ko-KR' });
    page = await context.newPage();
    problems = watchProblems(page, origin);
    await page.goto(`${origin}/`);
    await expect.poll(() => page.getByTestId('sign-in').textContent(), patient).toContain('로그인');
    expect(await page.getAttribute('html', 'lang')).toBe('ko');
    expect(await page.getByTestId('docs-link').getAttribute('href')).toBe('./docs');
    expect(await captureScreen(page, 'buyer-sign-in-ko')).toEqual([]);
    await page.getByTestId('language').click();
    await expect
      .poll(() => page.getByTestId('sign-in').textContent(), patient)
      .toContain('Sign in');
    expect(await captureScreen(page, 'buyer-sign-in')).toEqual([]);
    expect(problems).toEqual([]);
  });
});
