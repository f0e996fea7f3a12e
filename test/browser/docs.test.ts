import type { Browser, Locator, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, beforeEach, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../support/db.js';
import { createConcert, type ConcertFixture } from '../support/fixtures.js';
import {
  describeWithBrowser,
  lanAddress,
  launchChromium,
  screenshot,
  watchProblems,
} from '../support/browser.js';
import { startTestServer, type TestServer } from '../support/server.js';

/**
 * The buyers' page at `/` (the web client, with its links to the API docs) and Swagger UI as a user on another machine sees them: Debian's Chromium
 * opens the server by this machine's own network address over plain HTTP (not loopback, which
 * browsers treat as secure). Screenshots go to test-results/browser/.
 */
describeWithBrowser('the page at / and /docs in Chromium, by a non-loopback address', () => {
  let db: TestDatabase;
  let server: TestServer;
  let concert: ConcertFixture;
  let browser: Browser;
  let page: Page;
  let problems: string[];
  let origin: string;

  beforeAll(async () => {
    db = await createTestDatabase();
    server = await startTestServer(db, { HOST: '0.0.0.0' });
    concert = await createConcert(db.pool, { seats: 3 });
    origin = `http://${lanAddress ?? ''}:${new URL(server.url).port}`;
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
    await server?.close();
    await db?.drop();
  });
  beforeEach(async () => {
    page = await browser.newPage({ viewport: { width: 1280, height: 1000 } });
    page.setDefaultTimeout(15_000);
    problems = watchProblems(page, origin);
  });
  afterEach(async () => {
    await page.close();
  });

  it('shows the buyers’ page, whose docs link opens Swagger UI with every operation', async () => {
    await page.goto(`${origin}/`);
    await expect.poll(() => page.locator('h1').textContent()).toBe('Overture');
    await screenshot(page, 'landing');
    await page.getByTestId('docs-link').click();
    const operations = Object.values(
      ((await (await fetch(`${server.url}/openapi.json`)).json()) as { paths: object }).paths,
    ).flatMap((methods) => Object.keys(methods as object)).length;
    // Swagger UI renders the document after loading its bundle: seconds on a busy machine.
    await expect.poll(() => page.locator('.opblock').count(), { timeout: 15_000 }).toBe(operations);
    await expect
      .poll(() => page.locator('button.authorize').isVisible(), { timeout: 15_000 })
      .toBe(true);
    await screenshot(page, 'docs');
    expect(problems).toEqual([]);
  });

  it('authorizes once with Client-Id and Queue-Token, and two holds tried in a row both succeed', async () => {
    await page.goto(`${origin}/docs`);
    await authorize(page, 'clientId', '1001');

    const join = operation(page, 'post', '/api/v1/queue/token');
    await join.locator('.opblock-summary').click();
    await join.locator('button.try-out__btn').click();
    await join.locator('button.execute').click();
    expect(await liveStatus(join)).toBe('201');
    const joined = JSON.parse(await liveBody(join)) as { data: { token: string; status: string } };
    expect(joined.data.status).toBe('ACTIVE');
    await authorize(page, 'queueToken', joined.data.token);

    const hold = operation(page, 'post', '/api/v1/reservations/concerts/{concertId}/seats/hold');
    await hold.locator('.opblock-summary').click();
    await hold.locator('button.try-out__btn').click();
    await hold.locator('tr[data-param-name="concertId"] input').fill(String(concert.concertId));
    const keys: string[] = [];
    for (const seatId of concert.seatIds.slice(0, 2)) {
      // What a user does for a second try: Reset the example, pick another seat, Execute.
      if (keys.length > 0) await hold.locator('button.try-out__btn.reset').click();
      const body = hold.locator('textarea.body-param__text');
      const prefilled = JSON.parse(await body.inputValue()) as { seatHoldUuid: string };
      keys.push(prefilled.seatHoldUuid);
      await body.fill(JSON.stringify({ ...prefilled, concertId: concert.concertId, seatId }));
      await hold.locator('button.execute').click();
      await expect.poll(() => liveBody(hold)).toContain(`"seatId": ${seatId}`);
      expect(await liveStatus(hold), await liveBody(hold)).toBe('201');
    }
    expect(keys[0]).not.toBe(keys[1]);
    for (const key of keys) expect(key).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-/i);
    await screenshot(page, 'docs-hold');
    expect(problems).toEqual([]);
  });
});

/** One operation's block in Swagger UI. */
const operation = (page: Page, method: string, path: string): Locator =>
  page.locator(`.opblock-${method}:has(.opblock-summary-path[data-path="${path}"])`).first();

/** Fills one security scheme in the Authorize dialog. */
async function authorize(page: Page, scheme: string, value: string): Promise<void> {
  await page.locator('.auth-wrapper button.authorize').click();
  const form = page.locator(`.auth-container:has(h4:has-text("${scheme}"))`);
  await form.locator('input').fill(value);
  await form.locator('button.authorize').click();
  await page.locator('.modal-ux button.close-modal').click();
}

const liveStatus = (block: Locator) =>
  block.locator('.live-responses-table tbody .response-col_status').first().innerText();
const liveBody = (block: Locator) =>
  block.locator('.live-responses-table tbody .response-col_description pre').first().innerText();
