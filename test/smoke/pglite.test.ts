import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { PGlite } from '@electric-sql/pglite';
import { describe, expect, it } from 'vitest';
import { invariantViolations } from '../support/invariants.js';
import { startTestServer, type TestServer } from '../support/server.js';

const pgliteOf = (server: TestServer): PGlite => {
  const { database } = server.container;
  if (database.kind !== 'pglite') throw new Error('expected the embedded database');
  return database.pglite;
};

/** The embedded default (no server installed): the same service on PGlite, smoke-tested. */
describe('embedded PGlite database', () => {
  it('serves the whole buyer flow on the demo data, and stays correct under concurrent requests', async () => {
    const server = await startTestServer(undefined, { MAX_ACTIVE: '100' });
    try {
      const { client } = server;
      expect((await client.call('GET', '/health/ready')).data).toMatchObject({
        status: 'ready',
        database: 'pglite',
      });
      const token = await client.activeToken(1);
      const concerts = (await client.concerts(token)).data;
      expect(concerts.length).toBeGreaterThanOrEqual(4);
      const concert = concerts.find((c) => c.isAvailable)!;
      const seat = (await client.seats(token, concert.concertId)).data.availableSeats[0]!;
      expect(seat.seatNumber).toBe(1);
      expect((await client.charge(1, seat.price)).data.balance).toBe(seat.price);
      expect((await client.hold(token, concert.concertId, seat.seatId)).status).toBe(201);
      const key = randomUUID();
      const payments = await Promise.all(
        Array.from({ length: 20 }, () => client.pay(token, seat.seatId, key)),
      );
      expect(payments.every((reply) => reply.status === 201)).toBe(true);
      expect(payments.filter((reply) => reply.message === 'Reserved')).toHaveLength(1);
      expect(new Set(payments.map((reply) => reply.data.reservationId)).size).toBe(1);
      expect((await client.balance(1)).data.balance).toBe(0);

      // 30 buyers race for one seat; 30 charges race each other.
      const tokens = await Promise.all(
        Array.from({ length: 30 }, (_, i) => client.activeToken(100 + i)),
      );
      const target = (await client.seats(tokens[0]!, concert.concertId)).data.availableSeats.find(
        (s) => s.isAvailable,
      )!;
      const holds = await Promise.all(
        tokens.map((t) => client.hold(t, concert.concertId, target.seatId)),
      );
      expect(holds.filter((reply) => reply.status === 201)).toHaveLength(1);
      expect(holds.filter((reply) => reply.code === 'SEAT_ALREADY_HELD')).toHaveLength(29);
      await Promise.all(Array.from({ length: 30 }, () => client.charge(2, 1_000)));
      expect((await client.balance(2)).data.balance).toBe(30_000);

      await expect.poll(async () => (await client.popular()).data[0]?.reservedCount).toBe(1);

      // The buyer cancels (10 times at once): one refund, and the seat is at once for sale again.
      const reservationId = payments[0]!.data.reservationId;
      const cancels = await Promise.all(
        Array.from({ length: 10 }, () =>
          client.call('POST', `/api/v1/reservations/${reservationId}/cancel`, {
            headers: { 'client-id': '1' },
          }),
        ),
      );
      expect(cancels.map((reply) => reply.status)).toEqual(Array(10).fill(200));
      expect(cancels.filter((reply) => reply.message === 'Cancelled')).toHaveLength(1);
      expect((await client.balance(1)).data.balance).toBe(seat.price);
      await client.charge(101, seat.price);
      expect((await client.hold(tokens[1]!, concert.concertId, seat.seatId)).status).toBe(201);
      expect((await client.pay(tokens[1]!, seat.seatId)).status).toBe(201);
      expect(await invariantViolations(pgliteOf(server), { maxActive: 100 })).toEqual([]);
    } finally {
      await server.close();
    }
  });

  it('keeps its data folder across restarts and loads the demo only once: simple concerts, one on sale, one opening, one sold out', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'overture-pglite-'));
    const options = { PGLITE_DIR: dir, PGLITE_IN_MEMORY: 'false', SEED_DEMO_CATALOGUE: 'true' };
    /** What a start may add: a second start must find every count as the first left it. */
    const counts = async (server: TestServer) =>
      (
        await pgliteOf(server).query<Record<string, number>>(
          `SELECT ${[
            'concerts',
            'venues',
            'venue_seats',
            'seats',
            'reservations',
            'users',
            'point_transactions',
            'audit_log',
          ]
            .map((table) => `(SELECT count(*)::int FROM ${table}) AS ${table}`)
            .join(', ')}`,
        )
      ).rows[0];
    try {
      const before = Date.now();
      const first = await startTestServer(undefined, options);
      const after = Date.now();
      let loaded: Record<string, number> | undefined;
      try {
        loaded = await counts(first);
        expect(loaded).toMatchObject({ concerts: 8, venues: 2, reservations: 120, users: 120 });
        // 5 × 50 simple seats, 120 in each hall concert, 4,500 places in the arena.
        expect(loaded?.seats).toBe(250 + 120 + 120 + 4_500);
        const { rows } = await pgliteOf(first).query<{
          id: number;
          title: string;
          venue: string;
          seats: number;
          sold: number;
          sale_opens_at: Date | null;
          categories: number;
        }>(
          `SELECT c.id::int, c.title, c.venue, c.sale_opens_at,
                  (SELECT count(*)::int FROM seats s WHERE s.concert_id = c.id) AS seats,
                  (SELECT count(*)::int FROM reservations r WHERE r.concert_id = c.id AND r.cancelled_at IS NULL) AS sold,
                  (SELECT count(*)::int FROM concert_price_categories p WHERE p.concert_id = c.id) AS categories
           FROM concerts c WHERE c.venue_id IS NOT NULL ORDER BY c.id`,
        );
        expect(rows.map(({ sale_opens_at: _, id: __, ...row }) => row)).toEqual([
          {
            title: 'Spring Strings: The Four Seasons',
            venue: 'Overture Recital Hall',
            seats: 120,
            sold: 0,
            categories: 3,
          },
          {
            title: 'Neon Seoul World Tour: Arena Night',
            venue: 'Overture Arena',
            seats: 4_500,
            sold: 0,
            categories: 4,
          },
          {
            title: 'Midnight Piano Recital',
            venue: 'Overture Recital Hall',
            seats: 120,
            sold: 120,
            categories: 3,
          },
        ]);
        // The arena opens five minutes after this first start, by the clock of the start.
        const opens = new Date(rows[1]!.sale_opens_at!).getTime();
        expect(opens).toBeGreaterThanOrEqual(before + 5 * 60_000);
        expect(opens).toBeLessThanOrEqual(after + 5 * 60_000);

        // The buyer's list: the hall's concert on sale, the arena not yet, the recital sold out.
        const token = await first.client.activeToken(1);
        const listed = (await first.client.concerts(token)).data;
        const available = new Map(
          listed.map((concert) => [concert.concertId, concert.isAvailable]),
        );
        expect(rows.map((row) => available.get(row.id))).toEqual([true, false, false]);
        // Every demo buyer paid their seat from a charge: ledger = balance, one sale per seat.
        expect(await invariantViolations(pgliteOf(first))).toEqual([]);
        const buyers = await pgliteOf(first).query<{ n: number; balance: number }>(
          `SELECT count(*)::int AS n, sum(balance)::int AS balance FROM users WHERE id >= 900001`,
        );
        expect(buyers.rows[0]).toEqual({ n: 120, balance: 0 });
        await first.client.charge(7, 12_345);
      } finally {
        await first.close();
      }
      const second = await startTestServer(undefined, options);
      try {
        expect((await second.client.balance(7)).data.balance).toBe(12_345);
        // Nothing added but user 7's charge (one user, one ledger row).
        expect(await counts(second)).toEqual({
          ...loaded,
          users: 121,
          point_transactions: (loaded?.point_transactions ?? 0) + 1,
        });
      } finally {
        await second.close();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
