import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ListedPage as ListPage } from '../../src/modules/rooms/rooms.listing.js';
import { createTestDatabase, describeWithPostgres, type TestDatabase } from '../support/db.js';
import { createConcert, paidReservations } from '../support/fixtures.js';
import { startTestServer, type TestServer } from '../support/server.js';

const KEY = 'sale-list-test-operator-key-0123456789abc';
const operator = { authorization: `Bearer ${KEY}` };
const inSeconds = (seconds: number) => new Date(Date.now() + seconds * 1000).toISOString();

/**
 * The buyers' public concert list, GET /api/v1/queue/rooms (decision 0064): no identity and no
 * queue token; on sale, opening soon and sold out; paged and bounded; bad input a 400.
 */
describeWithPostgres('the public concert list (GET /api/v1/queue/rooms)', () => {
  let db: TestDatabase;
  let server: TestServer;

  beforeAll(async () => {
    db = await createTestDatabase();
    // Every request reads: the tests change concerts between reads (the cache has a unit test).
    server = await startTestServer(db, { OPERATOR_KEY: KEY });
  });
  afterAll(async () => {
    await server?.close();
    await db?.drop();
  });

  const list = (query = '') =>
    server.client.call<ListPage>('GET', `/api/v1/queue/rooms${query === '' ? '' : `?${query}`}`);
  const everything = async () => (await list('pageSize=100')).data.concerts;
  const listed = async (concertId: number) =>
    (await everything()).find((concert) => concert.concertId === concertId);

  it('lists a concert on sale with its price range and seats, asked without identity or queue token', async () => {
    const { concertId, seatIds } = await createConcert(db.pool, {
      seats: 4,
      price: 30_000,
      title: 'On sale',
      startsInHours: 48,
    });
    await db.pool.query('UPDATE seats SET price = 90000 WHERE id = $1', [seatIds[3]]);
    const tokensBefore = await db.pool.query('SELECT count(*)::int AS n FROM queue_tokens');
    const reply = await list();
    expect([reply.status, reply.code]).toEqual([200, 'SUCCESS']);
    const shown = await listed(concertId);
    expect(Date.parse(shown?.concertDateTime ?? '') - Date.now()).toBeGreaterThan(47 * 3_600_000);
    expect({ ...shown, concertDateTime: undefined }).toEqual({
      concertId,
      concertTitle: 'On sale',
      concertVenue: 'Fixture Hall',
      concertDateTime: undefined,
      priceMin: 30_000,
      priceMax: 90_000,
      sale: 'on-sale',
      opensAt: null,
      preQueueOpensAt: null,
      hasRoom: false,
      roomState: null,
      seatsLeft: 4,
      soldOut: false,
    });
    // Reading the list joined no line: no token was made.
    const tokensAfter = await db.pool.query('SELECT count(*)::int AS n FROM queue_tokens');
    expect(tokensAfter.rows[0]).toEqual(tokensBefore.rows[0]);
  });

  it('shows a sold-out concert as sold out, and leaves out past, cancelled and closed sales', async () => {
    const sold = await createConcert(db.pool, { seats: 3, title: 'Sold out' });
    expect(await paidReservations(db.pool, sold.concertId, 7_100_000)).toBe(3);
    expect(await listed(sold.concertId)).toMatchObject({
      sale: 'sold-out',
      seatsLeft: 0,
      soldOut: true,
    });
    const past = await createConcert(db.pool, { seats: 1, startsInHours: -1 });
    const cancelled = await createConcert(db.pool, { seats: 1 });
    await db.pool.query('UPDATE concerts SET cancelled_at = now() WHERE id = $1', [
      cancelled.concertId,
    ]);
    const closed = await createConcert(db.pool, { seats: 1 });
    await db.pool.query(
      "UPDATE concerts SET sale_opens_at = now() - interval '2 hours', sale_closes_at = now() - interval '1 hour' WHERE id = $1",
      [closed.concertId],
    );
    const ids = (await everything()).map((concert) => concert.concertId);
    expect(ids).not.toContain(past.concertId);
    expect(ids).not.toContain(cancelled.concertId);
    expect(ids).not.toContain(closed.concertId);
  });

  it('shows a room opening soon with its opening and pre-queue window, and a sale window ahead', async () => {
    const { concertId } = await createConcert(db.pool, { seats: 2, title: 'Opening soon' });
    const opensAt = inSeconds(600);
    const preQueueOpensAt = inSeconds(300);
    const room = await server.client.call('POST', '/api/v1/admin/rooms', {
      headers: operator,
      body: { concertId, opensAt, preQueueOpensAt, state: 'queue-all' },
    });
    expect(room.status).toBe(201);
    expect(await listed(concertId)).toMatchObject({
      sale: 'opening-soon',
      opensAt,
      preQueueOpensAt,
      hasRoom: true,
      roomState: 'queue-all',
      seatsLeft: 2,
      soldOut: false,
    });
    const later = await createConcert(db.pool, { seats: 2 });
    await db.pool.query(
      "UPDATE concerts SET sale_opens_at = date_trunc('second', now()) + interval '1 hour' WHERE id = $1",
      [later.concertId],
    );
    const window = await listed(later.concertId);
    expect(window).toMatchObject({ sale: 'opening-soon', hasRoom: false, preQueueOpensAt: null });
    expect(Date.parse(window?.opensAt ?? '') - Date.now()).toBeGreaterThan(3_500_000);
  });

  it('pages by show time: disjoint pages, the total, a page past the end empty', async () => {
    for (let i = 0; i < 5; i += 1)
      await createConcert(db.pool, { seats: 1, title: `Paged ${i}`, startsInHours: 100 + i });
    const all = await everything();
    const total = all.length;
    expect(total).toBeGreaterThanOrEqual(5);
    const shows = all.map((concert) => Date.parse(concert.concertDateTime));
    expect(shows).toEqual([...shows].sort((a, b) => a - b));
    const first = await list('page=1&pageSize=2');
    const second = await list('page=2&pageSize=2');
    expect(first.data).toMatchObject({ page: 1, pageSize: 2, total });
    expect([...first.data.concerts, ...second.data.concerts].map((c) => c.concertId)).toEqual(
      all.slice(0, 4).map((c) => c.concertId),
    );
    const beyond = await list(`page=${total + 1}&pageSize=1`);
    expect([beyond.status, beyond.data.concerts, beyond.data.total]).toEqual([200, [], total]);
    // The default page size is 20.
    expect((await list()).data.pageSize).toBe(20);
  });

  describe('bad query input', () => {
    it('answers 400 INVALID_REQUEST naming the parameter, never a 5xx', async () => {
      const problems: string[] = [];
      const cases: [string, string][] = [
        ['page=0', 'page'],
        ['page=1001', 'page'],
        ['page=-1', 'page'],
        ['page=1.5', 'page'],
        ['page=abc', 'page'],
        ['page=', 'page'],
        ['page=99999999999999999999', 'page'],
        ['pageSize=0', 'pageSize'],
        ['pageSize=101', 'pageSize'],
        ['pageSize=x', 'pageSize'],
        ['page=1&page=2', 'page'],
        ['offset=3', 'offset'],
        ['state=open', 'state'],
      ];
      for (const [query, field] of cases) {
        const reply = await list(query);
        const data = reply.data as unknown as { field?: string } | null;
        const seen = [reply.status, reply.code, data?.field];
        if (JSON.stringify(seen) !== JSON.stringify([400, 'INVALID_REQUEST', field]))
          problems.push(`${query}: ${JSON.stringify(seen)}`);
      }
      expect(problems).toEqual([]);
      // The edges are accepted.
      for (const query of ['page=1000&pageSize=1', 'page=1&pageSize=100'])
        expect((await list(query)).status).toBe(200);
    });
  });
});
