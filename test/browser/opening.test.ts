import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import {
  captureScreen,
  describeWithBrowser,
  DESKTOP,
  launchChromium,
  PHONE,
  screenshot,
  watchProblems,
} from '../support/browser.js';
import { createTestDatabase, type TestDatabase } from '../support/db.js';
import { createConcert, setBalance } from '../support/fixtures.js';
import { startTestServer, type TestServer } from '../support/server.js';

const OPERATOR_KEY = 'opening-web-test-operator-key-of-32-chars';
const POW_SECRET = 'opening-web-test-pow-secret-of-32-characters';

/** What the pages wait on (the room's view every 2 s, the stream, the opening loop) when loaded. */
const patient = { timeout: 20_000 };

/** A page closing its own live stream (admission ends the wait): not a problem. */
const ownStreamClosed = /^failed: .*\/api\/v1\/queue\/token\/stream net::ERR_ABORTED$/;

const inSeconds = (seconds: number) => new Date(Date.now() + seconds * 1000).toISOString();

/**
 * A room's opening, a sold-out room and a proof-of-work join, as a buyer's Chromium lives them.
 * The page is opened on loopback (a secure context, where WebCrypto exists — decision 0051; in
 * production it is HTTPS): the draw is checked and the challenge solved in the page itself. Each
 * new screen is scanned with axe-core and photographed at phone and desktop sizes.
 */
describeWithBrowser('an opening, a sold-out room and proof of work in the buyers’ page', () => {
  let db: TestDatabase;
  let server: TestServer;
  let browser: Browser;
  const contexts: BrowserContext[] = [];

  beforeAll(async () => {
    db = await createTestDatabase();
    server = await startTestServer(db, { OPERATOR_KEY, POW_SECRET });
    browser = await launchChromium();
  });
  afterAll(async () => {
    for (const context of contexts) await context.close();
    await browser?.close();
    await server?.close();
    await db?.drop();
  });

  const admin = <T>(method: string, path: string, body?: unknown) =>
    server.client.operator(OPERATOR_KEY)<T>(method, path, body);
  const joinRoom = (userId: number, concertId: number) => server.client.joinRoom(userId, concertId);

  /** A buyer's page of its own (a context each: the page remembers its user), signed in. */
  async function signedIn(
    userId: number,
    beforeSignIn?: (page: Page) => void,
  ): Promise<{ page: Page; problems: string[] }> {
    const context = await browser.newContext({ viewport: DESKTOP, locale: 'en-US' });
    contexts.push(context);
    const page = await context.newPage();
    page.setDefaultTimeout(20_000);
    const problems = watchProblems(page, server.url);
    beforeSignIn?.(page);
    await page.goto(`${server.url}/`);
    await page.getByTestId('user-id').fill(String(userId));
    await page.getByTestId('sign-in').click();
    return { page, problems };
  }

  it('shows the list before any join: no queue token made, an opening soon counted down', async () => {
    const soon = await createConcert(db.pool, { title: 'Countdown Night', seats: 3 });
    await admin('POST', '/rooms', {
      concertId: soon.concertId,
      opensAt: inSeconds(600),
      preQueueOpensAt: inSeconds(300),
    });
    const tonight = await createConcert(db.pool, { title: 'Tonight', seats: 3, price: 45_000 });
    const calls: string[] = [];
    const { page, problems } = await signedIn(9400, (target) =>
      target.on('request', (request) =>
        calls.push(`${request.method()} ${new URL(request.url()).pathname}`),
      ),
    );
    const card = page.getByTestId(`concert-${soon.concertId}`);
    await expect
      .poll(() => card.locator('[data-sale]').getAttribute('data-sale'), patient)
      .toBe('opening-soon');
    // The countdown to the opening runs, the pre-queue window's too; joining waits for the window.
    const opensIn = page.getByTestId(`opens-in-${soon.concertId}`);
    const first = Number(await opensIn.getAttribute('data-seconds'));
    expect(first).toBeGreaterThan(450);
    expect(first).toBeLessThanOrEqual(600);
    await expect
      .poll(async () => Number(await opensIn.getAttribute('data-seconds')), patient)
      .toBeLessThan(first);
    expect(await opensIn.textContent()).toMatch(/^\d{1,2}:\d\d$/);
    const preQueueIn = Number(
      await page.getByTestId(`pre-queue-in-${soon.concertId}`).getAttribute('data-seconds'),
    );
    expect(preQueueIn).toBeLessThan(first);
    expect(await page.getByTestId(`join-${soon.concertId}`).isDisabled()).toBe(true);
    const other = page.getByTestId(`concert-${tonight.concertId}`);
    expect(await other.locator('[data-sale]').getAttribute('data-sale')).toBe('on-sale');
    expect(await other.textContent()).toContain('from 45,000 KRW');
    expect(await page.getByTestId(`join-${tonight.concertId}`).isDisabled()).toBe(false);
    expect(await captureScreen(page, 'buyer-concerts-before-join')).toEqual([]);

    // Nothing joined a line: no join request, no token kept by the page or given by the server.
    expect(calls).toContain('GET /api/v1/queue/rooms');
    expect(calls.filter((call) => call.includes('/queue/token'))).toEqual([]);
    expect(
      await page.evaluate(
        "Object.keys(localStorage).filter((key) => key.startsWith('overture.queue.'))",
      ),
    ).toEqual([]);
    expect(await server.queue.tokenCount(9400)).toBe(0);
    expect(problems).toEqual([]);
  });

  it('takes a buyer through the pre-queue, the opening and admission, with the draw checked in the page', async () => {
    const { concertId } = await createConcert(db.pool, { title: 'Opening Night', seats: 5 });
    // Paused through the opening: every place in line is then exactly the place in the draw.
    // Far off at first (a loaded machine takes its time to show the pre-queue); brought close
    // once the page has shown it (moving an opening keeps its seed and commitment).
    await admin('POST', '/rooms', { concertId, opensAt: inSeconds(300), state: 'paused' });
    for (const userId of [9101, 9102, 9103, 9104])
      expect((await joinRoom(userId, concertId)).data.status).toBe('PRE_QUEUE');

    const { page, problems } = await signedIn(9100);
    const card = page.getByTestId(`concert-${concertId}`);
    await expect
      .poll(() => card.locator('[data-sale]').getAttribute('data-sale'), patient)
      .toBe('opening-soon');
    expect(await card.textContent()).toMatch(/Opens in\s+[45]:\d\d/);
    // The pre-queue counts as the line on the card: four buyers are in it (the room's own view,
    // read after the list).
    await expect
      .poll(() => page.getByTestId(`room-${concertId}`).textContent(), patient)
      .toMatch(/4\s+in line/);
    expect(await captureScreen(page, 'buyer-concerts-opening-soon')).toEqual([]);

    // The pre-queue follows the live stream: the page polls the status route only while the
    // stream is down, so none of these should be status polls.
    const lineCalls: string[] = [];
    page.on('request', (request) => {
      const path = new URL(request.url()).pathname;
      if (path.startsWith('/api/v1/queue/token')) lineCalls.push(`${request.method()} ${path}`);
    });
    await page.getByTestId(`join-${concertId}`).click();
    const status = page.getByTestId('queue-status');
    await expect.poll(() => status.getAttribute('data-status'), patient).toBe('PRE_QUEUE');
    const receipt = (await page.getByTestId('queue-receipt').textContent()) ?? '';
    expect(receipt).toMatch(/^[A-Za-z0-9_-]{22}$/);
    // Before the opening: nothing to check yet, and the page notes the commitment shown.
    const room = await server.client.call<{ commitment: string }>(
      'GET',
      `/api/v1/queue/rooms/${concertId}`,
    );
    await expect
      .poll(() => page.evaluate(`localStorage.getItem('overture.draw.${concertId}.9100')`), patient)
      .toBe(JSON.stringify({ commitment: room.data.commitment }));
    await page.getByTestId('draw-check').click();
    const result = page.getByTestId('draw-result');
    await expect.poll(() => result.getAttribute('data-verdict'), patient).toBe('not-drawn');
    expect(await result.textContent()).toContain(room.data.commitment);
    expect(await captureScreen(page, 'buyer-prequeue-draw')).toEqual([]);

    // The opening: the page is told its place in line; the draw, checked in the page, agrees.
    await admin('PATCH', `/rooms/${concertId}`, { opensAt: inSeconds(2) });
    await expect.poll(() => status.getAttribute('data-status'), patient).toBe('WAITING');
    // The drawn place came over the stream opened in the pre-queue, with no poll in between.
    expect(lineCalls).toEqual(['POST /api/v1/queue/token', 'GET /api/v1/queue/token/stream']);
    const told = Number(await page.getByTestId('queue-position').textContent());
    await page.getByTestId('draw-check').click();
    await expect.poll(() => result.getAttribute('data-verdict'), patient).toBe('verified');
    const draw = await server.client.call<{ receipts: string[] }>(
      'GET',
      `/api/v1/queue/rooms/${concertId}/draw`,
    );
    expect(draw.data.receipts).toHaveLength(5);
    expect(await result.getAttribute('data-place')).toBe(
      String(draw.data.receipts.indexOf(receipt) + 1),
    );
    expect(told).toBe(draw.data.receipts.indexOf(receipt) + 1);
    expect(await result.getAttribute('data-match')).toBe('yes');
    expect(await result.textContent()).toContain(`Your place in the draw: ${told} of 5`);
    expect(await captureScreen(page, 'buyer-draw-verified')).toEqual([]);
    // The result itself, as a phone shows it below the fold.
    await page.setViewportSize(PHONE);
    await result.scrollIntoViewIfNeeded();
    await screenshot(page, 'buyer-draw-result-phone');
    await page.setViewportSize(DESKTOP);
    // The same, in Korean.
    await page.getByTestId('language').click();
    await expect.poll(() => result.textContent(), patient).toContain(`5명 중 ${told}번`);
    await screenshot(page, 'buyer-draw-verified-ko-desktop');
    await page.getByTestId('language').click();

    // The sale resumes: the buyer is admitted to the seat map without a reload.
    await admin('PATCH', `/rooms/${concertId}`, { state: 'open' });
    await expect
      .poll(() => page.locator('[data-testid^="seat-"][data-state="free"]').count(), patient)
      .toBe(5);
    expect(problems.filter((problem) => !ownStreamClosed.test(problem))).toEqual([]);
    // Nine screenshots with axe scans and the opening: about 40 s on a loaded 2-core machine.
  }, 90_000);

  it('tells a waiting buyer the concert sold out, and a new buyer’s list says so', async () => {
    const { concertId, seatIds } = await createConcert(db.pool, { title: 'Last Seat', seats: 1 });
    await admin('POST', '/rooms', { concertId, maxActive: 1 });
    await setBalance(db.pool, 9201, 10_000);
    const shopper = await joinRoom(9201, concertId);
    expect(shopper.data.status).toBe('ACTIVE');

    const { page, problems } = await signedIn(9200);
    await page.getByTestId(`join-${concertId}`).click();
    const status = page.getByTestId('queue-status');
    await expect.poll(() => status.getAttribute('data-status'), patient).toBe('WAITING');
    expect(await page.getByTestId('queue-position').textContent()).toBe('1');

    // The shopper buys the last seat: the waiting page is told, without a reload.
    const token = shopper.data.token;
    expect((await server.client.hold(token, concertId, seatIds[0] ?? 0)).status).toBe(201);
    expect((await server.client.pay(token, seatIds[0] ?? 0)).status).toBe(201);
    await expect.poll(() => status.getAttribute('data-status'), patient).toBe('SOLD_OUT');
    expect(await page.getByTestId('queue-sold-out').textContent()).toContain('sold out');
    expect(await captureScreen(page, 'buyer-room-sold-out')).toEqual([]);

    // Another buyer's list shows the concert sold out, its join button off.
    const other = await signedIn(9202);
    const card = other.page.getByTestId(`concert-${concertId}`);
    await expect
      .poll(() => card.locator('[data-sale]').getAttribute('data-sale'), patient)
      .toBe('sold-out');
    expect(await other.page.getByTestId(`join-${concertId}`).isDisabled()).toBe(true);
    expect(await captureScreen(other.page, 'buyer-concerts-sold-out')).toEqual([]);
    expect(problems.filter((problem) => !ownStreamClosed.test(problem))).toEqual([]);
    expect(other.problems).toEqual([]);
  });

  it('solves the room’s proof of work in the page when the room asks for one, and joins', async () => {
    const { concertId } = await createConcert(db.pool, { title: 'Proof Night', seats: 5 });
    await admin('POST', '/rooms', { concertId });
    await admin('PATCH', `/rooms/${concertId}`, { powDifficulty: 10 });
    // The room refuses a join without the work.
    expect((await joinRoom(9301, concertId)).code).toBe('POW_REQUIRED');

    const { page, problems } = await signedIn(9300);
    const joins: unknown[] = [];
    page.on('request', (request) => {
      if (request.method() === 'POST' && request.url().endsWith('/api/v1/queue/token'))
        joins.push(request.postDataJSON());
    });
    await page.getByTestId(`join-${concertId}`).click();
    // Solved in the page's worker and accepted by the server: straight to the room's seat map.
    await expect
      .poll(() => page.locator('[data-testid^="seat-"][data-state="free"]').count(), patient)
      .toBe(5);
    // The room's join is the only one: the list needed no house room's join (decision 0064).
    const sent = joins as { concertId: number; pow?: { challenge: string; solution: string } }[];
    expect(sent.map((body) => body.concertId)).toEqual([concertId]);
    expect(sent[0]?.pow?.challenge).toMatch(new RegExp(`^pow1\\.${concertId}\\.10\\.`));
    expect(sent[0]?.pow?.solution).toMatch(/^[A-Za-z0-9_-]{1,64}$/);
    expect(await captureScreen(page, 'buyer-room-pow-admitted')).toEqual([]);
    expect(problems.filter((problem) => !ownStreamClosed.test(problem))).toEqual([]);
  });
});
