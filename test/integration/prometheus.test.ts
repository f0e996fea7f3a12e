import { afterAll, beforeAll, expect, it } from 'vitest';
import { createTestDatabase, describeWithPostgres, type TestDatabase } from '../support/db.js';
import { createConcert, setBalance } from '../support/fixtures.js';
import {
  describeWithPrometheus,
  startPrometheus,
  type PrivatePrometheus,
} from '../support/prometheus.js';
import { startTestServer, type TestServer } from '../support/server.js';

const MAX_ACTIVE = 20;

/**
 * A real Prometheus scrapes two instances serving one sale (one database) every second; the
 * sale's numbers, asked in PromQL, add up across instances, and the shared stores' gauges are
 * reported once, not once per instance.
 */
describeWithPostgres('Prometheus scraping two instances', () => {
  describeWithPrometheus('with a private Prometheus', () => {
    let db: TestDatabase;
    let servers: TestServer[] = [];
    let prometheus: PrivatePrometheus | undefined;

    beforeAll(async () => {
      db = await createTestDatabase();
      servers = [
        await startTestServer(db, { MAX_ACTIVE: String(MAX_ACTIVE) }),
        await startTestServer(db, { MAX_ACTIVE: String(MAX_ACTIVE) }),
      ];
      prometheus = await startPrometheus(servers.map((server) => new URL(server.url).host));
    });
    afterAll(async () => {
      await prometheus?.dispose();
      for (const server of servers) await server.close();
      await db?.drop();
    });

    /** The single value of a scalar-like query once it equals `expected`, or its last value. */
    async function settled(promql: string, expected: number, timeoutMs = 20_000) {
      const deadline = Date.now() + timeoutMs;
      let last: number | undefined;
      for (;;) {
        const result = await prometheus!.query(promql);
        last = result.length === 1 ? result[0]!.value : undefined;
        if (last === expected || Date.now() > deadline) return last;
        await new Promise((resolve) => setTimeout(resolve, 250));
      }
    }

    it('adds up holds, payments and requests over both instances, and reports the line once', async () => {
      const [a, b] = servers as [TestServer, TestServer];
      expect(await settled('count(up{job="overture"} == 1)', 2)).toBe(2);
      const { concertId, seatIds } = await createConcert(db.pool, { seats: 6, price: 1_000 });
      // Five buyers, three through one instance and two through the other; each pays its seat.
      const buyers = [1, 2, 3, 4, 5].map((userId, index) => ({
        userId,
        server: index < 3 ? a : b,
        seatId: seatIds[index]!,
      }));
      for (const buyer of buyers) await setBalance(db.pool, buyer.userId, 1_000);
      for (const buyer of buyers) {
        const token = await buyer.server.client.activeToken(buyer.userId);
        expect((await buyer.server.client.hold(token, concertId, buyer.seatId)).status).toBe(201);
        expect((await buyer.server.client.pay(token, buyer.seatId)).status).toBe(201);
      }
      // One refusal: a sold seat, asked for on the other instance.
      const late = await b.client.activeToken(6);
      expect((await b.client.hold(late, concertId, seatIds[0]!)).code).toBe(
        'SEAT_ALREADY_RESERVED',
      );

      expect(await settled('sum(overture_payments_total{outcome="ok"})', 5)).toBe(5);
      expect(await settled('sum(overture_holds_total{outcome="ok"})', 5)).toBe(5);
      expect(await settled('sum(overture_holds_total{outcome="SEAT_ALREADY_RESERVED"})', 1)).toBe(
        1,
      );
      // Each instance counted its own: three payments on one, two on the other.
      const perInstance = await prometheus!.query(
        'sum by (instance) (overture_payments_total{outcome="ok"})',
      );
      expect(perInstance.map((entry) => entry.value).sort()).toEqual([2, 3]);
      expect(
        await settled(
          'sum(overture_http_request_duration_seconds_count{route="/api/v1/reservations",status="201"})',
          5,
        ),
      ).toBe(5);

      // The shared stores' gauges: one series each across the two instances, not two.
      expect(await settled('count(overture_queue_active_limit{room="house"})', 1)).toBe(1);
      expect(await settled('sum(overture_queue_active_limit{room="house"})', MAX_ACTIVE)).toBe(
        MAX_ACTIVE,
      );
      expect(await settled('count(overture_dead_letters)', 1)).toBe(1);
      expect(await settled('sum(overture_dead_letters)', 0)).toBe(0);
      // The relay marks the five payments' events sent.
      expect(await settled('sum(overture_outbox_unsent)', 0)).toBe(0);
      // The five paid tokens expired (their slots freed); the sixth buyer is still shopping.
      expect(await settled('sum(overture_queue_active{room="house"})', 1)).toBe(1);
      expect(await settled('sum(overture_queue_waiting{room="house"})', 0)).toBe(0);
      // Per instance: each reports its own pools (the requests' and the join batches') and event loop.
      for (const pool of ['main', 'batches'])
        expect(
          await settled(`count(overture_db_pool_connections_in_use{pool="${pool}"})`, 2),
          pool,
        ).toBe(2);
      expect(await settled('count(overture_db_pool_connections_in_use)', 4)).toBe(4);
      expect(await settled('sum(overture_db_pool_waiting_requests{pool="batches"})', 0)).toBe(0);
      expect(await settled('count(overture_nodejs_eventloop_lag_seconds)', 2)).toBe(2);
    });
  });
});
