import type { RedisClient } from '../../src/redis/client.js';
import pino from 'pino';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase, type Database } from '../../src/db/client.js';
import { createConcertService } from '../../src/modules/concerts/concerts.service.js';
import { createPostgresConcertStore } from '../../src/modules/concerts/concerts.store.postgres.js';
import { loadRanking } from '../../src/modules/ranking/ranking.consumer.js';
import { createRankingMirror } from '../../src/modules/ranking/ranking.mirror.redis.js';
import { createRedisClient, closeRedis } from '../../src/redis/client.js';
import { RANKING_COMPLETE, redisKeys } from '../../src/redis/keys.js';
import { postgresAvailable } from '../support/db.js';
import { createConcert, setBalance, type ConcertFixture } from '../support/fixtures.js';
import { connectTestRedis, deletePrefix, redisAvailable, testKeyPrefix } from '../support/redis.js';
import { startTestServer, type TestServer } from '../support/server.js';
import { useTestDatabase } from '../support/suite.js';

/**
 * The ranking's copy in Redis (the seed's sorted set): counted once per committed event (from
 * the outbox, after commit), equal to the reservations, unchanged by redelivery, served as the
 * popular list, rebuilt from PostgreSQL when lost — at start, and when deleted while running —
 * and replaced by PostgreSQL when Redis does not answer.
 */
describe.skipIf(!postgresAvailable || !redisAvailable)('ranking in Redis', () => {
  const db = useTestDatabase();
  let redis: RedisClient;
  let prefix: string;
  const servers: TestServer[] = [];
  let nextUser = 1;

  beforeAll(async () => {
    redis = await connectTestRedis();
  });
  afterEach(async () => {
    for (const server of servers.splice(0)) await server.close();
    await deletePrefix(redis, prefix);
  });
  afterAll(async () => {
    await closeRedis(redis);
  });

  /** Servers of one test share a key prefix (deleted after the test), so restarts find the set. */
  const start = async () => {
    const server = await startTestServer(db, {
      QUEUE_BACKEND: 'redis',
      REDIS_KEY_PREFIX: prefix,
      MAX_ACTIVE: '1000',
      OUTBOX_INTERVAL_MS: '20',
    });
    servers.push(server);
    return server;
  };
  const fresh = async () => {
    prefix = testKeyPrefix();
    return start();
  };
  const rankingKey = () => redisKeys(prefix).ranking;

  const buy = async (server: TestServer, concert: ConcertFixture, seatIndex: number) => {
    const user = nextUser++;
    const token = await server.client.activeToken(user);
    await setBalance(db.pool, user, 100_000);
    const seatId = concert.seatIds[seatIndex]!;
    expect((await server.client.hold(token, concert.concertId, seatId)).status).toBe(201);
    expect((await server.client.pay(token, seatId)).status).toBe(201);
  };

  /** Confirmed reservations per concert, straight from the reservations table. */
  const reservationsOf = async (concerts: ConcertFixture[]) => {
    const { rows } = await db.pool.query<{ concert_id: string; n: number }>(
      `SELECT concert_id, count(*)::int AS n FROM reservations WHERE concert_id = ANY($1) GROUP BY concert_id`,
      [concerts.map((concert) => concert.concertId)],
    );
    return new Map(rows.map((row) => [Number(row.concert_id), row.n]));
  };
  const redisCounts = async (concerts: ConcertFixture[]) =>
    new Map(
      await Promise.all(
        concerts.map(
          async (concert) =>
            [
              concert.concertId,
              Number(await redis.zscore(rankingKey(), String(concert.concertId))),
            ] as const,
        ),
      ),
    );
  const popularOf = async (server: TestServer, concerts: ConcertFixture[]) => {
    const ids = new Set(concerts.map((concert) => concert.concertId));
    const popular = await server.client.popular();
    expect(popular.status).toBe(200);
    return popular.data
      .filter((entry) => ids.has(entry.concertId))
      .map((entry) => [entry.concertId, entry.reservedCount]);
  };

  it('counts each confirmed reservation once, equal to the reservations, in the popular order of PostgreSQL', async () => {
    const server = await fresh();
    // One after another: ids rise from a to d (c before d is the tie order below).
    const concerts: ConcertFixture[] = [];
    for (const n of [1, 2, 3, 4])
      concerts.push(await createConcert(db.pool, { seats: 5, title: `Ranked ${n}` }));
    const [a, b, c, d] = concerts as [
      ConcertFixture,
      ConcertFixture,
      ConcertFixture,
      ConcertFixture,
    ];
    await Promise.all([
      buy(server, a, 0),
      buy(server, a, 1),
      buy(server, a, 2),
      buy(server, b, 0),
      buy(server, b, 1),
      buy(server, d, 0),
      buy(server, c, 0),
    ]);
    const expected = await reservationsOf(concerts);
    expect([...expected.values()].reduce((sum, n) => sum + n, 0)).toBe(7);
    await expect.poll(() => redisCounts(concerts), { timeout: 5_000 }).toEqual(expected);
    // Most reserved first; equal counts by concert id (c before d), exactly as PostgreSQL orders.
    expect(await popularOf(server, concerts)).toEqual([
      [a.concertId, 3],
      [b.concertId, 2],
      [c.concertId, 1],
      [d.concertId, 1],
    ]);
    const fromPostgres = await createPostgresConcertStore(server.container.database).popular(10);
    expect(
      fromPostgres
        .filter((entry) => expected.has(entry.concertId))
        .map((entry) => [entry.concertId, entry.reservedCount]),
    ).toEqual(await popularOf(server, concerts));

    // Every event published again (a relay that crashed between publishing and marking them
    // sent): the Redis counts do not move.
    await db.pool.query(`UPDATE outbox SET published_at = NULL`);
    server.container.relay.wake();
    await expect
      .poll(
        async () =>
          (await db.pool.query(`SELECT 1 FROM outbox WHERE published_at IS NULL`)).rowCount,
      )
      .toBe(0);
    await server.container.relay.runNow();
    expect(await redisCounts(concerts)).toEqual(expected);
    expect(await popularOf(server, concerts)).toEqual([
      [a.concertId, 3],
      [b.concertId, 2],
      [c.concertId, 1],
      [d.concertId, 1],
    ]);
  });

  it('lowers the count by one per cancellation (removing a concert at zero), once however often it is delivered', async () => {
    const server = await fresh();
    const concert = await createConcert(db.pool, {
      seats: 5,
      title: 'Cancelled',
      startsInHours: 48,
    });
    const bought: { userId: number; reservationId: number }[] = [];
    for (const seatIndex of [0, 1]) {
      const userId = nextUser++;
      const token = await server.client.activeToken(userId);
      await setBalance(db.pool, userId, 100_000);
      const seatId = concert.seatIds[seatIndex]!;
      expect((await server.client.hold(token, concert.concertId, seatId)).status).toBe(201);
      const paid = await server.client.pay(token, seatId);
      bought.push({ userId, reservationId: paid.data.reservationId });
    }
    const score = () => redis.zscore(rankingKey(), String(concert.concertId));
    await expect.poll(score, { timeout: 5_000 }).toBe('2');
    const cancel = ({ userId, reservationId }: { userId: number; reservationId: number }) =>
      server.client.call('POST', `/api/v1/reservations/${reservationId}/cancel`, {
        headers: { 'client-id': String(userId) },
      });
    expect((await cancel(bought[0]!)).status).toBe(200);
    await expect.poll(score, { timeout: 5_000 }).toBe('1');
    // Every event published again: nothing moves.
    await db.pool.query(`UPDATE outbox SET published_at = NULL`);
    server.container.relay.wake();
    await expect
      .poll(
        async () =>
          (await db.pool.query(`SELECT 1 FROM outbox WHERE published_at IS NULL`)).rowCount,
        { timeout: 5_000 },
      )
      .toBe(0);
    expect(await score()).toBe('1');
    expect((await cancel(bought[1]!)).status).toBe(200);
    await expect.poll(score, { timeout: 5_000 }).toBe(null);
    expect((await reservationsOf([concert])).get(concert.concertId)).toBe(2);
    const live = await db.pool.query(
      `SELECT count(*)::int AS n FROM reservations WHERE concert_id = $1 AND cancelled_at IS NULL`,
      [concert.concertId],
    );
    expect(live.rows[0]).toEqual({ n: 0 });
  });

  it('rebuilds the set from PostgreSQL when it is deleted while running, also after copies refilled part of it', async () => {
    const server = await fresh();
    const concerts = await Promise.all([1, 2].map(() => createConcert(db.pool, { seats: 5 })));
    const [a, b] = concerts as [ConcertFixture, ConcertFixture];
    await buy(server, a, 0);
    await buy(server, a, 1);
    await buy(server, b, 0);
    await expect
      .poll(() => popularOf(server, concerts), { timeout: 5_000 })
      .toEqual([
        [a.concertId, 2],
        [b.concertId, 1],
      ]);

    await redis.del(rankingKey());
    expect(await popularOf(server, concerts)).toEqual([
      [a.concertId, 2],
      [b.concertId, 1],
    ]);
    expect(await redis.zscore(rankingKey(), RANKING_COMPLETE)).toBe('-1');
    expect(await redisCounts(concerts)).toEqual(await reservationsOf(concerts));

    // Deleted again, then a new sale copies its count into a fresh set that lacks everything else.
    await redis.del(rankingKey());
    await buy(server, b, 1);
    await buy(server, b, 2);
    await expect
      .poll(() => redis.zscore(rankingKey(), String(b.concertId)), { timeout: 5_000 })
      .toBe('3');
    expect(await redis.zscore(rankingKey(), RANKING_COMPLETE)).toBeNull();
    expect(await popularOf(server, concerts)).toEqual([
      [b.concertId, 3],
      [a.concertId, 2],
    ]);
    expect(await redisCounts(concerts)).toEqual(await reservationsOf(concerts));
  });

  it('rebuilds a lost set when an instance starts, before any read', async () => {
    const first = await fresh();
    const concert = await createConcert(db.pool, { seats: 5 });
    await buy(first, concert, 0);
    await buy(first, concert, 1);
    await expect
      .poll(() => redis.zscore(rankingKey(), String(concert.concertId)), { timeout: 5_000 })
      .toBe('2');
    await first.close();
    servers.splice(0);
    // Redis restarted empty (the machine's keeps nothing on disk).
    await redis.del(rankingKey());
    await start();
    expect(await redis.zscore(rankingKey(), RANKING_COMPLETE)).toBe('-1');
    expect(await redis.zscore(rankingKey(), String(concert.concertId))).toBe('2');
  });

  it('serves the popular list from PostgreSQL when Redis does not answer', async () => {
    prefix = testKeyPrefix();
    const concert = await createConcert(db.pool, { seats: 5 });
    await db.pool.query(
      `INSERT INTO concert_ranking (concert_id, confirmed_count) VALUES ($1, 4)
       ON CONFLICT (concert_id) DO UPDATE SET confirmed_count = 4`,
      [concert.concertId],
    );
    const database: Database = openDatabase({
      url: db.url,
      poolSize: 2,
      pgliteDir: '',
      pgliteInMemory: false,
    });
    // Nothing listens on port 1: every Redis call fails fast, as with Redis stopped.
    const dead = createRedisClient({ url: 'redis://127.0.0.1:1', commandTimeoutMs: 200 });
    const lines: string[] = [];
    const logger = pino({ level: 'info' }, { write: (line: string) => lines.push(line) });
    try {
      const store = createPostgresConcertStore(database);
      const concerts = createConcertService({
        store,
        queue: { assertAccess: () => undefined },
        popularLimit: 100,
        popularCacheMs: 0,
        ranking: createRankingMirror(dead, {
          keyPrefix: prefix,
          load: () => loadRanking(database),
          logger,
        }),
        logger,
      });
      const popular = await concerts.popular();
      expect(popular.find((entry) => entry.concertId === concert.concertId)?.reservedCount).toBe(4);
      expect(popular).toEqual(await store.popular(100));
      await concerts.popular();
      expect(lines.filter((line) => line.includes('served from PostgreSQL'))).toHaveLength(1);
    } finally {
      dead.disconnect();
      await database.close();
    }
  });
});
