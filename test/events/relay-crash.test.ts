import pg from 'pg';
import { expect, it } from 'vitest';
import { createClient } from '../support/client.js';
import { describeWithPostgres } from '../support/db.js';
import { createConcert, setBalance, type ConcertFixture } from '../support/fixtures.js';
import { invariantViolations } from '../support/invariants.js';
import { spawnServer } from '../support/process.js';
import { startReceiver } from '../support/receiver.js';
import { startTestServer } from '../support/server.js';
import { useTestDatabase } from '../support/suite.js';

const SHARDS = 4;

/**
 * Proves: kill -9 of the process running the relay in the middle of a batch loses nothing and
 * applies nothing twice. Two concerts whose events fall in one outbox shard: the first
 * concert's events are applied, then the relay blocks on the second concert's ranking row (a
 * lock this test holds) — mid-batch — and the process is killed there. After a restart every
 * event is delivered and every effect counted exactly once.
 */
describeWithPostgres('relay crash in the middle of a batch', () => {
  const db = useTestDatabase();

  /** Two concerts whose events the relay publishes in one batch (same shard). */
  async function concertsInOneShard(): Promise<[ConcertFixture, ConcertFixture]> {
    const byShard = new Map<number, ConcertFixture>();
    for (;;) {
      const concert = await createConcert(db.pool, { seats: 20, price: 1_000 });
      const { rows } = await db.pool.query<{ shard: number }>(
        `SELECT (hashtext($1) & 2147483647) % $2 AS shard`,
        [String(concert.concertId), SHARDS],
      );
      const shard = rows[0]!.shard;
      const first = byShard.get(shard);
      if (first) return [first, concert];
      byShard.set(shard, concert);
    }
  }

  it('delivers every event and applies each effect once after kill -9 and a restart', async () => {
    const receiver = await startReceiver('accept');
    const [first, second] = await concertsInOneShard();
    // The second concert's ranking row exists and this test holds its lock.
    await db.pool.query(
      `INSERT INTO concert_ranking (concert_id, confirmed_count) VALUES ($1, 0)`,
      [second.concertId],
    );
    const blocker = new pg.Client({ connectionString: db.url });
    blocker.on('error', () => undefined);
    await blocker.connect();
    await blocker.query('BEGIN');
    await blocker.query(`SELECT 1 FROM concert_ranking WHERE concert_id = $1 FOR UPDATE`, [
      second.concertId,
    ]);

    const env = {
      DATABASE_URL: db.url,
      MAX_ACTIVE: '1000',
      DATA_PLATFORM_URL: receiver.url,
      OUTBOX_LEASE_MS: '500',
    };
    const victim = await spawnServer({ ...env, OUTBOX_INTERVAL_MS: '60000' });
    const client = createClient(victim.url);
    const buy = async (user: number, concert: ConcertFixture, seat: number) => {
      const token = await client.activeToken(user);
      await setBalance(db.pool, user, 1_000);
      expect((await client.hold(token, concert.concertId, concert.seatIds[seat]!)).status).toBe(
        201,
      );
      expect((await client.pay(token, concert.seatIds[seat]!)).status).toBe(201);
    };
    // Paid one at a time, first concert first: the relay (woken by each payment) may already
    // publish some; the rest wait for the next wake-up.
    for (let i = 0; i < 5; i++) await buy(100 + i, first, i);
    for (let i = 0; i < 5; i++) await buy(200 + i, second, i);

    // The relay is stuck on the second concert's ranking row, after applying the first's.
    await expect
      .poll(
        async () => {
          const { rows } = await db.pool.query<{ n: number }>(
            `SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'
             AND query LIKE '%concert_ranking%'`,
          );
          return rows[0]!.n;
        },
        { timeout: 10_000 },
      )
      .toBeGreaterThan(0);
    const applied = await db.pool.query<{ n: number }>(
      `SELECT confirmed_count::int AS n FROM concert_ranking WHERE concert_id = $1`,
      [first.concertId],
    );
    expect(applied.rows[0]!.n).toBe(5);
    const unsent = await db.pool.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM outbox WHERE published_at IS NULL`,
    );
    expect(unsent.rows[0]!.n).toBeGreaterThan(0);

    victim.child.kill('SIGKILL');
    await victim.exited;
    await blocker.query('ROLLBACK');
    await blocker.end();

    const restarted = await startTestServer(db, {
      ...env,
      OUTBOX_INTERVAL_MS: '50',
      DELIVERY_INTERVAL_MS: '50',
    });
    try {
      await expect
        .poll(
          async () => {
            const { rows } = await db.pool.query<{
              unsent: number;
              first: number;
              second: number;
              inbox: number;
              reservations: number;
            }>(
              `SELECT (SELECT count(*)::int FROM outbox WHERE published_at IS NULL) AS unsent,
                    (SELECT confirmed_count::int FROM concert_ranking WHERE concert_id = $1) AS first,
                    (SELECT confirmed_count::int FROM concert_ranking WHERE concert_id = $2) AS second,
                    (SELECT count(*)::int FROM processed_events WHERE consumer = 'ranking') AS inbox,
                    (SELECT count(*)::int FROM reservations) AS reservations`,
              [first.concertId, second.concertId],
            );
            return rows[0];
          },
          { timeout: 15_000 },
        )
        .toEqual({ unsent: 0, first: 5, second: 5, inbox: 10, reservations: 10 });
      const events = await db.pool.query<{ event_id: string }>(`SELECT event_id FROM outbox`);
      await expect.poll(() => receiver.accepted().size, { timeout: 10_000 }).toBe(10);
      expect(receiver.accepted()).toEqual(new Set(events.rows.map((row) => row.event_id)));
      expect(await invariantViolations(db.pool)).toEqual([]);
    } finally {
      await restarted.close();
      await receiver.close();
    }
  });
});
