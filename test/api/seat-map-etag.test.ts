import { afterEach, expect, it } from 'vitest';
import { describeWithPostgres } from '../support/db.js';
import { createConcert } from '../support/fixtures.js';
import { useTestServer } from '../support/suite.js';

/** How long a seat map's snapshot answers here (docs/decisions/0061); tests elsewhere run with 0. */
const FRESH_MS = 300;

describeWithPostgres('seat map snapshots and their ETag (SEAT_MAP_CACHE_MS)', () => {
  const { db, server } = useTestServer({ MAX_ACTIVE: '10', SEAT_MAP_CACHE_MS: String(FRESH_MS) });

  afterEach(async () => {
    await server.queue.clear();
    await db.pool.query(`TRUNCATE seat_holds, reservations, idempotency_keys`);
  });

  const read = (path: string, token: string | undefined, etag?: string) =>
    fetch(`${server.url}/api/v1/reservations/concerts${path}`, {
      headers: {
        ...(token === undefined ? {} : { 'Queue-Token': token }),
        ...(etag === undefined ? {} : { 'If-None-Match': etag }),
      },
    });
  const after = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

  it('answers 304 with no body to a page whose copy is current, and 200 with a new ETag once a hold shows', async () => {
    const { concertId, seatIds } = await createConcert(db.pool, { seats: 3, price: 10_000 });
    const token = await server.client.activeToken(1);
    const first = await read(`/${concertId}/seats`, token);
    expect(first.status).toBe(200);
    expect(first.headers.get('cache-control')).toBe('private, no-cache');
    const etag = first.headers.get('etag') ?? '';
    expect(etag).toMatch(/^"[A-Za-z0-9_-]{27}"$/);

    const unchanged = await read(`/${concertId}/seats`, token, etag);
    expect([unchanged.status, await unchanged.text()]).toEqual([304, '']);
    expect(unchanged.headers.get('etag')).toBe(etag);
    expect((await read(`/${concertId}/seats`, token, '"another"')).status).toBe(200);

    const holder = await server.client.activeToken(2);
    expect((await server.client.hold(holder, concertId, seatIds[0]!)).status).toBe(201);
    await after(FRESH_MS + 50);
    // A snapshot lives at most FRESH_MS: the hold shows, under a new tag.
    const changed = await read(`/${concertId}/seats`, token, etag);
    expect(changed.status).toBe(200);
    expect(changed.headers.get('etag')).not.toBe(etag);
    const body = (await changed.json()) as {
      data: { availableSeats: { seatId: number; state: string }[] };
    };
    expect(body.data.availableSeats.find((seat) => seat.seatId === seatIds[0])?.state).toBe('held');
  });

  it('tags the sections too, and checks the queue token before any 304', async () => {
    const { concertId } = await createConcert(db.pool, { seats: 2, price: 10_000 });
    const token = await server.client.activeToken(3);
    const sections = await read(`/${concertId}/sections`, token);
    expect(sections.status).toBe(200);
    const etag = sections.headers.get('etag') ?? '';
    expect((await read(`/${concertId}/sections`, token, etag)).status).toBe(304);
    // The same tag without a token, or with an unknown one, is refused as before: no map leaks.
    const anonymous = await read(`/${concertId}/sections`, undefined, etag);
    expect(anonymous.status).toBe(401);
    const unknown = await read(`/${concertId}/seats`, 'not-a-token-of-anyone', etag);
    expect([400, 401]).toContain(unknown.status);
  });

  it('sends a section’s seats as its schema serializes them, a hold once its snapshot ends', async () => {
    const { concertId, seatIds } = await createConcert(db.pool, { seats: 3, price: 10_000 });
    // A name beyond ASCII: the bytes sent (and their Content-Length) are UTF-8, not characters.
    await db.pool.query(
      `UPDATE seats SET section_key = 'stalls', section_name = 'Étage “Nord”', row_label = 'A',
         seat_label = 'A-' || seat_number WHERE concert_id = $1`,
      [concertId],
    );
    const token = await server.client.activeToken(5);
    const path = `/${concertId}/sections/stalls/seats`;
    // The reply's shape as the route's response schema lays it out (its fields in schema order).
    const expected = (held: number[]) =>
      JSON.stringify({
        code: 'SUCCESS',
        message: 'OK',
        data: {
          concertId,
          sectionKey: 'stalls',
          seats: seatIds.map((seatId, index) => ({
            seatId,
            seatNumber: index + 1,
            price: 10_000,
            isAvailable: !held.includes(seatId),
            state: held.includes(seatId) ? 'held' : 'free',
            sectionKey: 'stalls',
            section: 'Étage “Nord”',
            row: 'A',
            label: `A-${index + 1}`,
            priceCategory: null,
          })),
        },
      });
    const first = await read(path, token);
    const text = await first.text();
    expect([first.status, text]).toEqual([200, expected([])]);
    expect(first.headers.get('content-type')).toBe('application/json; charset=utf-8');
    expect(first.headers.get('content-length')).toBe(String(Buffer.byteLength(text)));
    const etag = first.headers.get('etag') ?? '';
    expect(etag).toMatch(/^"[A-Za-z0-9_-]{27}"$/);

    const again = await read(path, token);
    expect([await again.text(), again.headers.get('etag')]).toEqual([text, etag]);

    const holder = await server.client.activeToken(6);
    expect((await server.client.hold(holder, concertId, seatIds[1]!)).status).toBe(201);
    await after(FRESH_MS + 50);
    // Once the snapshot ends the hold shows, under a new tag: a page with the old tag gets the map.
    const changed = await read(path, token, etag);
    expect([changed.status, await changed.text()]).toEqual([200, expected([seatIds[1]!])]);
    const newTag = changed.headers.get('etag') ?? '';
    expect(newTag).not.toBe(etag);
    const current = await read(path, token, newTag);
    expect([current.status, await current.text()]).toEqual([304, '']);
  });

  it('answers an unknown concert 404 each time (a miss is not a 304)', async () => {
    const token = await server.client.activeToken(4);
    const missing = await read(`/999999/seats`, token);
    expect(missing.status).toBe(404);
    expect(missing.headers.get('etag')).toBeNull();
  });
});
