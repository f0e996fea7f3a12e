import { readdirSync } from 'node:fs';
import type { Browser, BrowserContext } from 'playwright-core';
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
import { createConcert, setBalance } from '../support/fixtures.js';
import { startTestServer, type TestServer } from '../support/server.js';
import { issueChallenge, verifySolution } from '../../src/modules/queue/queue.pow.js';

const OPERATOR_KEY = 'rooms-web-test-operator-key-of-32-chars!';

/** What the pages wait on (the dashboard's poll, the room's view, the stream) on a loaded machine. */
const patient = { timeout: 15_000 };

/** A page closing its own live stream (admission ends the wait): not a problem. */
const ownStreamClosed = /^failed: .*\/api\/v1\/queue\/token\/stream net::ERR_ABORTED$/;

/**
 * A concert's own waiting room in Debian's Chromium, run from both sides at once: the operator
 * creates and sizes the room and pauses the sale in the console, a buyer (another browser
 * context) joins that room from the concert list and is told the sale is paused while keeping
 * the place, and the operator's resume admits the buyer to the seat map. Then a buyer sees what a
 * cancel refunds before confirming it. Each new screen is scanned with axe-core and photographed
 * at phone and desktop sizes.
 */
describeWithBrowser('waiting rooms in the console and the buyers’ page', () => {
  let db: TestDatabase;
  let server: TestServer;
  let browser: Browser;
  let operatorContext: BrowserContext;
  let buyerContext: BrowserContext;
  let origin: string;

  beforeAll(async () => {
    db = await createTestDatabase();
    server = await startTestServer(db, { HOST: '0.0.0.0', OPERATOR_KEY });
    origin = `http://${lanAddress ?? ''}:${new URL(server.url).port}`;
    browser = await launchChromium();
    operatorContext = await browser.newContext({ viewport: DESKTOP, locale: 'en-US' });
    buyerContext = await browser.newContext({ viewport: DESKTOP, locale: 'en-US' });
  });
  afterAll(async () => {
    await operatorContext?.close();
    await buyerContext?.close();
    await browser?.close();
    await server?.close();
    await db?.drop();
  });

  const admin = <T>(method: string, path: string, body?: unknown) =>
    server.client.operator(OPERATOR_KEY)<T>(method, path, body);
  const joinRoom = (userId: number, concertId: number) => server.client.joinRoom(userId, concertId);

  it('pauses a sale in the console, the buyer in its room sees it paused, and the resume admits', async () => {
    const roomed = await createConcert(db.pool, { title: 'Room Gala', startsInHours: 72 });
    const housed = await createConcert(db.pool, { title: 'House Recital', startsInHours: 72 });

    const operator = await operatorContext.newPage();
    operator.setDefaultTimeout(20_000);
    const operatorProblems = watchProblems(operator, origin);
    await operator.goto(`${origin}/operator`);
    await operator.getByTestId('operator-key').fill(OPERATOR_KEY);
    await operator.getByTestId('operator-sign-in').click();
    await operator.getByTestId(`dashboard-${roomed.concertId}`).click();
    // No room yet: the operator offers one, and creates it in front of the operator.
    await expect.poll(() => operator.getByTestId('room-none').isVisible(), patient).toBe(true);
    await operator.getByTestId('room-create').click();
    const roomState = operator.getByTestId(`room-state-${roomed.concertId}`);
    await expect.poll(() => roomState.getAttribute('data-state'), patient).toBe('open');

    // One shopper at a time, taken by an API buyer; then the sale is paused.
    await operator.getByTestId('room-max-active').fill('1');
    await operator.getByTestId('room-save').click();
    await expect
      .poll(
        async () =>
          (await admin<{ maxActive: number }>('GET', `/rooms/${roomed.concertId}`)).maxActive,
        patient,
      )
      .toBe(1);
    const shopper = await joinRoom(8001, roomed.concertId);
    expect([shopper.status, shopper.data.status]).toEqual([201, 'ACTIVE']);
    await operator.getByTestId('room-pause').click();
    await expect.poll(() => roomState.getAttribute('data-state'), patient).toBe('paused');
    await expect.poll(() => operator.getByTestId('stat-active').textContent(), patient).toBe('1');
    expect(await captureScreen(operator, 'operator-room-controls')).toEqual([]);

    // The buyer lists the concerts: the roomed one says paused, the other is on sale.
    const buyer = await buyerContext.newPage();
    buyer.setDefaultTimeout(20_000);
    const buyerProblems = watchProblems(buyer, origin);
    await buyer.goto(`${origin}/`);
    await buyer.getByTestId('user-id').fill('8002');
    await buyer.getByTestId('sign-in').click();
    const roomedCard = buyer.getByTestId(`concert-${roomed.concertId}`);
    await expect.poll(() => roomedCard.textContent(), patient).toContain('Sale paused');
    expect(await buyer.getByTestId(`concert-${housed.concertId}`).textContent()).toContain(
      'On sale',
    );
    expect(await captureScreen(buyer, 'buyer-concerts-rooms')).toEqual([]);

    // The list was read without a line (decision 0064): no house room token.
    expect(await buyer.evaluate("localStorage.getItem('overture.queue.8002')")).toBeNull();
    // Joining the roomed concert joins its room: in line, told the sale is paused.
    await buyer.getByTestId(`join-${roomed.concertId}`).click();
    await expect
      .poll(() => buyer.getByTestId('queue-status').getAttribute('data-status'), patient)
      .toBe('WAITING');
    await expect
      .poll(() => buyer.getByTestId('room-paused').textContent(), patient)
      .toContain('The sale is paused; you keep your place.');
    expect(await buyer.getByTestId('queue-position').textContent()).toBe('1');
    expect(
      await buyer.evaluate(`localStorage.getItem('overture.queue.8002.${roomed.concertId}')`),
    ).toMatch(new RegExp(`^${roomed.concertId}\\.`));
    // Still no house room token: only the room's.
    expect(await buyer.evaluate("localStorage.getItem('overture.queue.8002')")).toBeNull();
    expect(await captureScreen(buyer, 'buyer-room-paused')).toEqual([]);
    await expect.poll(() => operator.getByTestId('stat-waiting').textContent(), patient).toBe('1');

    // The shopper leaves: a slot is free, but a paused room admits nobody.
    await server.client.leave(shopper.data.token);
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    expect(await buyer.getByTestId('queue-status').getAttribute('data-status')).toBe('WAITING');

    // A refresh keeps the place in the room.
    await buyer.reload();
    await expect.poll(() => buyer.getByTestId('queue-position').textContent(), patient).toBe('1');

    // Resume: the buyer is admitted to the room's seat map without a reload.
    await operator.getByTestId('room-resume').click();
    await expect.poll(() => roomState.getAttribute('data-state'), patient).toBe('open');
    await expect
      .poll(() => buyer.locator('[data-testid^="seat-"][data-state="free"]').count(), patient)
      .toBe(50);

    expect(buyerProblems.filter((problem) => !ownStreamClosed.test(problem))).toEqual([]);
    expect(operatorProblems).toEqual([]);
  });

  it('shows a refused proof-of-work setting in plain words, changes nothing, and moves by keyboard', async () => {
    const concert = await createConcert(db.pool, { title: 'Difficulty', startsInHours: 72 });
    await admin('POST', '/rooms', { concertId: concert.concertId });
    const operator = await operatorContext.newPage();
    await operator.goto(`${origin}/operator`);
    await operator.getByTestId('operator-key').fill(OPERATOR_KEY);
    await operator.getByTestId('operator-sign-in').click();
    await operator.getByTestId(`dashboard-${concert.concertId}`).click();
    await expect
      .poll(() => operator.getByTestId(`room-state-${concert.concertId}`).isVisible(), patient)
      .toBe(true);
    await operator.getByTestId('room-pow-difficulty').fill('99');
    await operator.getByTestId('room-save').click();
    await expect
      .poll(() => operator.getByTestId('error').textContent(), patient)
      .toContain('not accepted');
    const room = await admin<{ maxActive: number; powDifficulty?: number }>(
      'GET',
      `/rooms/${concert.concertId}`,
    );
    expect(room.powDifficulty ?? 0).toBe(0);

    // The moves work from the keyboard: the queue-all button focused and pressed with Enter.
    await operator.getByTestId('room-queue-all').focus();
    await operator.keyboard.press('Enter');
    await expect
      .poll(
        () => operator.getByTestId(`room-state-${concert.concertId}`).getAttribute('data-state'),
        patient,
      )
      .toBe('queue-all');
  });

  it('shows what a cancel refunds before the buyer confirms it', async () => {
    const concert = await createConcert(db.pool, { title: 'Refund Night', startsInHours: 72 });
    await db.pool.query('UPDATE concerts SET refund_fee_percent = 10 WHERE id = $1', [
      concert.concertId,
    ]);
    const { client } = server;
    await setBalance(db.pool, 8003, 10_000);
    const token = await client.activeToken(8003);
    expect((await client.hold(token, concert.concertId, concert.seatIds[0]!)).status).toBe(201);
    const paid = await client.pay(token, concert.seatIds[0]!);
    expect(paid.status).toBe(201);
    await client.leave(token);
    const reservationId = paid.data.reservationId;

    // A browser of its own: the other buyer's is signed in as that buyer.
    const context = await browser.newContext({ viewport: DESKTOP, locale: 'en-US' });
    const buyer = await context.newPage();
    await buyer.goto(`${origin}/`);
    await buyer.getByTestId('user-id').fill('8003');
    await buyer.getByTestId('sign-in').click();
    await buyer.getByTestId(`concert-${concert.concertId}`).waitFor();
    await buyer.getByRole('button', { name: 'My tickets' }).click();
    await buyer.getByTestId(`cancel-${reservationId}`).click();
    const quote = buyer.getByTestId(`refund-quote-${reservationId}`);
    await expect.poll(() => quote.getAttribute('data-amount'), patient).toBe('9000');
    expect(await quote.textContent()).toContain('9,000');
    expect(await captureScreen(buyer, 'buyer-cancel-quote')).toEqual([]);
    await buyer.getByTestId(`confirm-cancel-${reservationId}`).click();
    await expect
      .poll(() => buyer.getByTestId(`ticket-${reservationId}`).getAttribute('data-status'), patient)
      .toBe('CANCELLED');
    await expect.poll(() => buyer.getByTestId('balance').textContent(), patient).toContain('9,000');
    await context.close();
  });

  it('solves a room’s challenge in the built Web Worker, as the server verifies it', async () => {
    // The worker the build emitted, run as the page runs it: loopback is a secure context, where
    // WebCrypto exists (decision 0051); its answer is checked by the server's own code.
    const worker = readdirSync('web/dist/assets').find((name) => /^pow\.worker-.*\.js$/.test(name));
    expect(worker).toBeDefined();
    const secret = 'rooms-web-test-pow-secret-of-32-characters';
    const { challenge } = issueChallenge({
      concertId: 7,
      difficulty: 10,
      ttlSeconds: 60,
      secret,
      now: new Date(),
    });
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(`${server.url}/`);
    // A string: the test's types have no DOM (the page's Worker is the browser's own).
    const reply = await page.evaluate<{ solution?: string; error?: string }>(
      `new Promise((resolve) => {
        const solver = new Worker('./assets/${worker ?? ''}', { type: 'module' });
        solver.onmessage = (event) => resolve(event.data);
        solver.postMessage({ challenge: ${JSON.stringify(challenge)}, difficulty: 10 });
      })`,
    );
    await context.close();
    expect(reply.error).toBeUndefined();
    expect(
      verifySolution(challenge, reply.solution ?? '', { concertId: 7, secret, now: new Date() }).ok,
    ).toBe(true);
  });
});
