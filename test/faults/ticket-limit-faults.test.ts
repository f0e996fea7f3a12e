import pg from 'pg';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createClient, type Reply } from '../support/client.js';
import { createConcert, setBalance, type ConcertFixture } from '../support/fixtures.js';
import { invariantViolations } from '../support/invariants.js';
import {
  describeWithPostgresServer,
  startPrivatePostgres,
  type PrivatePostgres,
} from '../support/postgres-server.js';
import { spawnServer, type ServerProcess } from '../support/process.js';

const KEY = 'ticket-limit-faults-operator-key-0123456789';
const BUYERS = 12;
const LIMIT = 3;
const SEATS = 60;
const TRAFFIC_MS = 6_000;
const TERMINATE_EVERY_MS = 1_000;

/**
 * Multi-seat sales with a ticket limit while PostgreSQL backends are terminated (a private
 * server; pg_terminate_backend as a failover does). Buyers hold up to the limit, pay their holds
 * together and get refunds from an operator, in a loop. Proves: a payment or a refund cut by a
 * termination is wholly in or wholly out (every invariant holds: ledger = balance, one USE row per
 * reservation, one REFUND per cancellation, sold holds = live reservations, no buyer over the
 * limit), no reply is a 500, and the limit still refuses once the storm is over.
 */
describeWithPostgresServer(
  'ticket limit, multi-seat payments and refunds under terminations',
  () => {
    let postgres: PrivatePostgres;
    let server: ServerProcess;
    let pool: pg.Pool;
    let concert: ConcertFixture;
    const database = 'overture_limit';

    beforeAll(async () => {
      postgres = await startPrivatePostgres();
      const url = await postgres.createDatabase(database);
      server = await spawnServer({
        DATABASE_URL: url,
        QUEUE_BACKEND: 'postgres',
        MAX_ACTIVE: String(BUYERS * 4),
        SEED_DEMO_DATA: 'false',
        SHUTDOWN_TIMEOUT_MS: '5000',
        OPERATOR_KEY: KEY,
      });
      pool = new pg.Pool({ connectionString: url, max: 2 });
      pool.on('error', () => undefined);
      concert = await createConcert(pool, { seats: SEATS, price: 1_000 });
      await pool.query('UPDATE concerts SET ticket_limit = $1 WHERE id = $2', [
        LIMIT,
        concert.concertId,
      ]);
    });
    afterAll(async () => {
      if (server && server.child.exitCode === null) {
        server.child.kill('SIGTERM');
        await server.exited;
      }
      await pool?.end();
      await postgres?.dispose();
    });

    it('keeps every payment and refund whole and every buyer within the limit', async () => {
      const client = createClient(server.url);
      const replies: Reply[] = [];
      const unanswered: string[] = [];
      let running = true;
      for (let i = 0; i < BUYERS; i++) await setBalance(pool, 1 + i, 1_000_000);
      const buyer = async (userId: number) => {
        try {
          while (running) {
            const token = await client.activeToken(userId, 15_000).catch(() => null);
            if (!token) continue;
            const held: number[] = [];
            for (let n = 0; n < LIMIT + 1 && running; n++) {
              const seatId = concert.seatIds[Math.floor(Math.random() * SEATS)]!;
              const reply = await client.hold(token, concert.concertId, seatId);
              replies.push(reply);
              if (reply.status === 201 && !held.includes(seatId)) held.push(seatId);
            }
            if (held.length === 0) continue;
            const paid = await client.payMany(token, held);
            replies.push(paid);
            const first = paid.status === 201 ? paid.data.reservations[0] : undefined;
            if (first)
              replies.push(
                await client.call(
                  'POST',
                  `/api/v1/admin/reservations/${first.reservationId}/cancel`,
                  {
                    headers: { authorization: `Bearer ${KEY}` },
                  },
                ),
              );
            await client.leave(token);
          }
        } catch (error) {
          unanswered.push(String((error as Error).cause ?? error));
        }
      };
      const buyers = Array.from({ length: BUYERS }, (_, i) => buyer(1 + i));
      const terminated: number[] = [];
      const started = Date.now();
      while (Date.now() - started < TRAFFIC_MS && server.child.exitCode === null) {
        await new Promise((resolve) => setTimeout(resolve, TERMINATE_EVERY_MS));
        terminated.push(await postgres.terminateBackends(database));
      }
      running = false;
      await Promise.all(buyers);

      expect(server.child.exitCode, server.output()).toBeNull();
      expect(unanswered).toEqual([]);
      const statuses = new Set(replies.map((reply) => reply.status));
      expect([...statuses].filter((status) => ![200, 201, 409, 503].includes(status))).toEqual([]);
      const codes = new Set(replies.map((reply) => reply.code));
      // The limit was met, payments and refunds went through, and terminations cut some of them.
      expect(codes).toContain('TICKET_LIMIT_REACHED');
      expect(
        replies.filter((reply) => reply.status === 201 && 'total' in (reply.data as object)).length,
      ).toBeGreaterThan(0);
      expect(terminated.some((count) => count > 0)).toBe(true);
      expect(await invariantViolations(pool)).toEqual([]);

      const count = (code: string) => replies.filter((reply) => reply.code === code).length;
      console.log(
        `ticket-limit storm: ${replies.length} replies, ${count('TICKET_LIMIT_REACHED')} TICKET_LIMIT_REACHED, ` +
          `${count('SERVICE_UNAVAILABLE')} 503, terminations cut ${terminated.join('/')} backends`,
      );

      // After the storm the limit still counts what the storm left: buyer 1 may hold exactly the
      // seats it has not bought, then is refused.
      const { rows } = await pool.query<{ sold: number }>(
        `SELECT count(*)::int AS sold FROM seat_holds WHERE user_id = 1 AND status = 'SOLD'`,
      );
      const token = await client.activeToken(1, 15_000);
      const free = await pool.query<{ id: number }>(
        `SELECT s.id::int FROM seats s LEFT JOIN seat_holds h ON h.seat_id = s.id
       WHERE s.concert_id = $1 AND h.seat_id IS NULL ORDER BY s.id LIMIT $2`,
        [concert.concertId, LIMIT + 1],
      );
      const after = [];
      for (const { id } of free.rows)
        after.push((await client.hold(token, concert.concertId, id)).code);
      const room = LIMIT - rows[0]!.sold;
      expect(after).toEqual([
        ...Array.from({ length: room }, () => 'SUCCESS'),
        ...Array.from({ length: LIMIT + 1 - room }, () => 'TICKET_LIMIT_REACHED'),
      ]);
      server.child.kill('SIGTERM');
      expect(await server.exited, server.output()).toBe(0);
    });
  },
);
