import { afterAll, beforeAll, expect, it } from 'vitest';
import { createTestDatabase, describeWithPostgres, type TestDatabase } from '../support/db.js';
import { createConcert, type ConcertFixture } from '../support/fixtures.js';
import { startTestServer, type TestServer } from '../support/server.js';

const KEY = 'rooms-view-test-operator-key-0123456789ab';
const FRESH_MS = 3_000;

interface View {
  waiting: number;
  active: number;
  preQueue?: number;
}

/**
 * Decision 0066: a room's public view counts its line (O(n) on PostgreSQL) and its pre-queue, so
 * each instance answers every reader from one read per ROOM_VIEW_CACHE_MS. The numbers are the
 * store's as read then: never older than that, and right once it has passed.
 */
describeWithPostgres('room public view: one snapshot per ROOM_VIEW_CACHE_MS', () => {
  let db: TestDatabase;
  let server: TestServer;
  let concert: ConcertFixture;

  beforeAll(async () => {
    db = await createTestDatabase();
    server = await startTestServer(db, {
      OPERATOR_KEY: KEY,
      ROOM_VIEW_CACHE_MS: String(FRESH_MS),
    });
    concert = await createConcert(db.pool, { seats: 5, price: 10_000 });
    const created = await server.client.call('POST', '/api/v1/admin/rooms', {
      headers: { authorization: `Bearer ${KEY}` },
      body: { concertId: concert.concertId, maxActive: 5, state: 'paused' },
    });
    expect(created.status).toBe(201);
  });
  afterAll(async () => {
    await server?.close();
    await db?.drop();
  });

  const view = async () => {
    const reply = await server.client.call<View>('GET', `/api/v1/queue/rooms/${concert.concertId}`);
    expect(reply.status).toBe(200);
    return reply.data;
  };

  it('answers from the snapshot within its freshness, and the new numbers after it', async () => {
    // The server stamps its snapshot when the first read arrives: after `readAt`, before
    // `answeredAt` (on a busy machine the gap can pass 50 ms).
    const readAt = performance.now();
    expect((await view()).waiting).toBe(0);
    const answeredAt = performance.now();
    // A paused room admits nobody: three joins wait.
    for (const user of [601, 602, 603]) {
      const joined = await server.client.call<{ status: string }>('POST', '/api/v1/queue/token', {
        headers: { 'client-id': String(user) },
        body: { concertId: concert.concertId },
      });
      expect([joined.status, joined.data.status]).toEqual([201, 'WAITING']);
    }
    const stale = await view();
    const staleAt = performance.now();
    // Still the first read's numbers (the joins took far less than the freshness)…
    expect(staleAt - readAt).toBeLessThan(FRESH_MS);
    expect(stale.waiting).toBe(0);
    // …and once the freshness has passed since that read, the line as it is.
    await new Promise((resolve) =>
      setTimeout(resolve, FRESH_MS + 50 - (performance.now() - answeredAt)),
    );
    const fresh = await view();
    expect(fresh).toMatchObject({ waiting: 3, active: 0 });
  });

  it('a concert without a room is still 404, never kept as a snapshot', async () => {
    const other = await createConcert(db.pool, { seats: 1, price: 10_000 });
    for (let i = 0; i < 2; i++) {
      const none = await server.client.call('GET', `/api/v1/queue/rooms/${other.concertId}`);
      expect([none.status, none.code]).toEqual([404, 'ROOM_NOT_FOUND']);
    }
  });
});
