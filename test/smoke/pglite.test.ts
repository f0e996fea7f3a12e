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

  it('keeps its data folder across restarts and loads the demo concerts only once', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'overture-pglite-'));
    try {
      const first = await startTestServer(undefined, {
        PGLITE_DIR: dir,
        PGLITE_IN_MEMORY: 'false',
      });
      await first.client.charge(7, 12_345);
      await first.close();
      const second = await startTestServer(undefined, {
        PGLITE_DIR: dir,
        PGLITE_IN_MEMORY: 'false',
      });
      try {
        expect((await second.client.balance(7)).data.balance).toBe(12_345);
        const { rows } = await pgliteOf(second).query<{ n: number }>(
          `SELECT count(*)::int AS n FROM concerts`,
        );
        expect(rows[0]?.n).toBe(5);
      } finally {
        await second.close();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
