import { randomUUID } from 'node:crypto';
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import { createClient } from '../support/client.js';
import { createTestDatabase, describeWithPostgres, type TestDatabase } from '../support/db.js';
import { createConcert, setBalance } from '../support/fixtures.js';
import { invariantViolations } from '../support/invariants.js';
import {
  describeWithPgBouncer,
  startPgBouncer,
  type PrivatePgBouncer,
} from '../support/pgbouncer.js';
import { spawnServer, type ServerProcess } from '../support/process.js';

const SEATS = 12;
const BUYERS = 16;

/**
 * The service behind PgBouncer (Debian's 1.18), the two ways docs/deployment.md describes:
 * session mode as it is, and transaction mode with DB_NAMED_STATEMENTS=false and a direct
 * DATABASE_SESSION_URL. The pooler has fewer server connections than the instances' pools, so
 * transactions of different requests and instances share server connections.
 */
describeWithPostgres('behind a PgBouncer', () => {
  describeWithPgBouncer('session and transaction pooling', () => {
    let db: TestDatabase;
    let bouncer: PrivatePgBouncer | undefined;
    const processes: ServerProcess[] = [];

    beforeAll(async () => {
      db = await createTestDatabase();
    });
    afterEach(async () => {
      for (const server of processes.splice(0)) {
        server.child.kill('SIGKILL');
        await server.exited;
      }
      await bouncer?.dispose();
      bouncer = undefined;
    });
    afterAll(async () => {
      await db?.drop();
    });

    const target = () => new URL(db.url).host;
    const spawn = async (env: Record<string, string>) => {
      const server = await spawnServer({
        SEED_DEMO_DATA: 'false',
        MAX_ACTIVE: String(BUYERS),
        DB_POOL_SIZE: '6',
        // Long enough that only the presence lock can explain a prompt takeover.
        OUTBOX_LEASE_MS: '60000',
        OUTBOX_INTERVAL_MS: '50',
        ...env,
      });
      processes.push(server);
      return server;
    };

    /**
     * BUYERS buyers for SEATS seats, every request to a random instance: each is admitted,
     * holds a free seat, pays, and sends the same payment again. Every reply is what the seed
     * promises (no 5xx), each seat is sold once, the repeat is the original reservation, and
     * the ledgers hold.
     */
    async function sell(servers: ServerProcess[]) {
      const concert = await createConcert(db.pool, { seats: SEATS, price: 1_000 });
      const client = () => createClient(servers[Math.floor(Math.random() * servers.length)]!.url);
      const before = await bouncer!.transactions();
      const bought = await Promise.all(
        Array.from({ length: BUYERS }, async (_, i) => {
          const userId = 70_000 + i;
          await setBalance(db.pool, userId, 1_000);
          const token = await client().activeToken(userId, 20_000);
          const seats = [...concert.seatIds].sort(() => Math.random() - 0.5);
          for (const seatId of seats) {
            const hold = await client().hold(token, concert.concertId, seatId);
            if (hold.status === 409) continue;
            expect([hold.status, hold.code]).toEqual([201, 'SUCCESS']);
            const reservationUuid = randomUUID();
            const paid = await client().pay(token, seatId, reservationUuid);
            expect([paid.status, paid.code]).toEqual([201, 'SUCCESS']);
            const replay = await client().pay(token, seatId, reservationUuid);
            expect([replay.status, replay.message, replay.data]).toEqual([
              201,
              'Replayed',
              paid.data,
            ]);
            return seatId;
          }
          return undefined;
        }),
      );
      const sold = bought.filter((seatId) => seatId !== undefined);
      expect(sold).toHaveLength(SEATS);
      expect(new Set(sold).size).toBe(SEATS);
      const { rows } = await db.pool.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM reservations WHERE concert_id = $1`,
        [concert.concertId],
      );
      expect(rows[0]!.n).toBe(SEATS);
      expect(await invariantViolations(db.pool)).toEqual([]);
      // The traffic went through the pooler: at least a hold and two payments per seat sold.
      expect((await bouncer!.transactions()) - before).toBeGreaterThan(3 * SEATS);
    }

    it('session mode: the defaults (named prepared statements, one URL) sell a concert', async () => {
      bouncer = await startPgBouncer(target(), 'session', 8);
      await sell([await spawn({ DATABASE_URL: bouncer.via(db.url) })]);
    });

    /**
     * Proves the transaction-mode settings: with statements unnamed, two instances whose
     * pools (6 each) share 3 server connections sell a concert exactly once; and the presence
     * lock, on its own direct session, still tells a dead instance at once — after kill -9 of
     * both, a new instance takes every outbox shard within seconds although the leases have a
     * minute left. Through the pooler, that lock would stay on a pooled server connection after
     * its process died (or be re-entered by a peer sharing that connection).
     */
    it('transaction mode: DB_NAMED_STATEMENTS=false and a direct DATABASE_SESSION_URL', async () => {
      bouncer = await startPgBouncer(target(), 'transaction', 3);
      const env = {
        DATABASE_URL: bouncer.via(db.url),
        DATABASE_SESSION_URL: db.url,
        DB_NAMED_STATEMENTS: 'false',
      };
      const servers = [await spawn(env), await spawn(env)];
      await sell(servers);

      const owners = async () =>
        (await db.pool.query<{ owner: string }>(`SELECT owner FROM outbox_relay_leases`)).rows.map(
          (row) => row.owner,
        );
      await expect.poll(async () => (await owners()).length, { timeout: 10_000 }).toBe(4);
      const dead = new Set(await owners());
      for (const server of processes.splice(0)) {
        server.child.kill('SIGKILL');
        await server.exited;
      }
      await spawn(env);
      await expect
        .poll(async () => (await owners()).filter((owner) => dead.has(owner)), {
          timeout: 10_000,
          interval: 50,
        })
        .toEqual([]);
      expect(await owners()).toHaveLength(4);
    });
  });
});
