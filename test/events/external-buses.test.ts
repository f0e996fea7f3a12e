import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import { PRESENCE_LOCK } from '../../src/db/presence.js';
import { RESERVATION_CONFIRMED } from '../../src/modules/events/events.js';
import { createClient, type TestClient } from '../support/client.js';
import { createTestDatabase, describeWithPostgres, type TestDatabase } from '../support/db.js';
import { createConcert, setBalance, type ConcertFixture } from '../support/fixtures.js';
import { invariantViolations } from '../support/invariants.js';
import {
  describeWithKafka,
  kafkaModule,
  startKafkaMock,
  type KafkaMock,
} from '../support/kafka.js';
import { spawnServer } from '../support/process.js';
import { startReceiver, type Receiver } from '../support/receiver.js';
import {
  describeWithRedisServer,
  startPrivateRedis,
  type PrivateRedis,
} from '../support/redis-server.js';
import { startTestServer, type Overrides } from '../support/server.js';

const PARTITIONS = 6;
const RELAY_SHARDS = 4;
/** Long enough for a broker's group join (3 s on the mock) and a rejoin after an outage. */
const DRAIN_MS = 45_000;
/** A Kafka group member silent this long leaves its group. */
const SESSION_TIMEOUT_MS = 6_000;

/**
 * The road from the payment transaction to each consumer when the relay publishes to Redis
 * Streams or Kafka: every payment's event reaches the ranking, token expiry and the data
 * platform once in effect; with the bus down, payments keep succeeding and the backlog drains
 * when it returns; a relay killed with -9 between publishing a batch and marking it sent loses
 * nothing and applies nothing twice.
 */
describeWithPostgres('events after commit on the external buses', () => {
  let db: TestDatabase;
  let nextUser = 1;
  const cleanups: (() => Promise<void>)[] = [];

  beforeAll(async () => {
    db = await createTestDatabase();
  });
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
    expect(await invariantViolations(db.pool)).toEqual([]);
    await db.pool.query(
      `TRUNCATE outbox, event_deliveries, processed_events, concert_ranking, outbox_relay_leases`,
    );
  });
  afterAll(async () => {
    await db?.drop();
  });

  const startPlatform = async () => {
    const receiver = await startReceiver();
    cleanups.push(() => receiver.close());
    return receiver;
  };
  const start = async (overrides: Overrides) => {
    const server = await startTestServer(db, {
      // The waiting room stays in PostgreSQL: only the bus goes down in these tests.
      QUEUE_BACKEND: 'postgres',
      MAX_ACTIVE: '1000',
      DELIVERY_INTERVAL_MS: '50',
      OUTBOX_INTERVAL_MS: '100',
      EVENT_RETRY_BASE_MS: '50',
      EVENT_RETRY_MAX_MS: '500',
      ...overrides,
    });
    cleanups.push(() => server.close());
    return server;
  };

  /** One purchase through the API; resolves with how long the payment took. */
  const buy = async (client: TestClient, concert: ConcertFixture, seat: number) => {
    const user = nextUser++;
    const token = await client.activeToken(user);
    await setBalance(db.pool, user, 1_000);
    expect((await client.hold(token, concert.concertId, concert.seatIds[seat]!)).status).toBe(201);
    const started = performance.now();
    const paid = await client.pay(token, concert.seatIds[seat]!);
    expect(paid.status).toBe(201);
    return performance.now() - started;
  };

  const state = async (concertIds: number[]) => {
    const { rows } = await db.pool.query<{
      unsent: number;
      reservations: number;
      inbox: number;
      ranked: number;
    }>(
      `SELECT (SELECT count(*)::int FROM outbox WHERE published_at IS NULL) AS unsent,
              (SELECT count(*)::int FROM reservations WHERE seat_id IN (SELECT id FROM seats WHERE concert_id = ANY($1))) AS reservations,
              (SELECT count(*)::int FROM processed_events WHERE consumer = 'ranking') AS inbox,
              (SELECT coalesce(sum(confirmed_count), 0)::int FROM concert_ranking WHERE concert_id = ANY($1)) AS ranked`,
      [concertIds],
    );
    return rows[0]!;
  };
  const rankingOf = async (concertId: number) => {
    const { rows } = await db.pool.query<{ n: number }>(
      `SELECT confirmed_count::int AS n FROM concert_ranking WHERE concert_id = $1`,
      [concertId],
    );
    return rows[0]?.n ?? 0;
  };
  const outboxEventIds = async () =>
    new Set(
      (await db.pool.query<{ event_id: string }>(`SELECT event_id FROM outbox`)).rows.map(
        (row) => row.event_id,
      ),
    );

  /**
   * Everything committed has reached every consumer, once in effect. After a crash, sends the
   * dead process had made but not yet recorded stay PENDING under its lease (60 s) and are sent
   * again later with the same Idempotency-Key: allowed when `crashed`, and only for events the
   * platform already holds.
   */
  const expectDrained = async (
    concertIds: number[],
    receiver: Receiver,
    paid: number,
    crashed = false,
  ) => {
    await expect
      .poll(() => state(concertIds), { timeout: DRAIN_MS, interval: 200 })
      .toEqual({ unsent: 0, reservations: paid, inbox: paid, ranked: paid });
    // Both stages of the data-platform path, so a failure says which one stalled: the group's
    // consumer recording the sends (event_deliveries), or the delivery worker making them.
    const platform = async () => ({
      recorded: (
        await db.pool.query<{ n: number }>(
          `SELECT count(*)::int AS n FROM event_deliveries WHERE consumer = 'data-platform'`,
        )
      ).rows[0]!.n,
      accepted: receiver.accepted().size,
    });
    await expect
      .poll(platform, { timeout: DRAIN_MS, interval: 200 })
      .toEqual({ recorded: paid, accepted: paid });
    expect(receiver.accepted()).toEqual(await outboxEventIds());
    // Work still owed (sent events stay recorded as DELIVERED).
    const left = async () =>
      (
        await db.pool.query<{ event_id: string; status: string }>(
          `SELECT event_id, status FROM event_deliveries WHERE status <> 'DELIVERED'`,
        )
      ).rows;
    if (!crashed) {
      await expect.poll(left, { timeout: DRAIN_MS }).toEqual([]);
      return;
    }
    for (const row of await left()) {
      expect(row.status).toBe('PENDING');
      expect(receiver.accepted().has(row.event_id)).toBe(true);
    }
  };

  /**
   * Payments while the bus is up, then while it is down (each still answers 201 without waiting
   * for the bus, and the events wait in the outbox), then the bus returns and the backlog drains.
   */
  async function survivesAnOutage(
    overrides: Overrides,
    bus: { down(): Promise<void>; up(): Promise<void>; downForMs: number },
    waitLimitMs: number,
  ) {
    const receiver = await startPlatform();
    const server = await start({ ...overrides, DATA_PLATFORM_URL: receiver.url });
    const concert = await createConcert(db.pool, { seats: 40, price: 1_000 });
    for (let seat = 0; seat < 8; seat++) await buy(server.client, concert, seat);
    await expectDrained([concert.concertId], receiver, 8);

    await bus.down();
    const downSince = Date.now();
    const during: number[] = [];
    for (let seat = 8; seat < 20; seat++) during.push(await buy(server.client, concert, seat));
    // None of them waited for the bus (a publish waits up to its timeout before failing).
    expect(Math.max(...during)).toBeLessThan(waitLimitMs);
    await expect
      .poll(async () => (await state([concert.concertId])).unsent, { timeout: 10_000 })
      .toBe(12);
    const ready = await server.client.call<{ outbox: { unsent: number } }>('GET', '/health/ready');
    expect(ready.status).toBe(200);
    expect(ready.data.outbox.unsent).toBe(12);
    expect(await rankingOf(concert.concertId)).toBe(8);
    // Down for a while: longer than a consumer's session (Kafka) or claim time (Redis).
    await new Promise((resolve) =>
      setTimeout(resolve, Math.max(0, downSince + bus.downForMs - Date.now())),
    );
    expect(await rankingOf(concert.concertId)).toBe(8);

    await bus.up();
    await expectDrained([concert.concertId], receiver, 20);
    expect(await rankingOf(concert.concertId)).toBe(20);
  }

  describeWithRedisServer('on Redis Streams', () => {
    let redis: PrivateRedis;
    beforeAll(async () => {
      // A Redis of this file's own: it is stopped and started, which the shared one never is.
      redis = await startPrivateRedis();
    });
    afterAll(async () => {
      await redis?.dispose();
    });

    it('delivers every payment to each consumer once, and drains the backlog after Redis was down', async () => {
      await survivesAnOutage(
        {
          EVENT_BUS: 'redis',
          REDIS_URL: redis.url,
          REDIS_STREAM_SHARDS: '4',
          REDIS_STREAM_CLAIM_IDLE_MS: '1500',
        },
        {
          // Stopped and started empty (no RDB, no AOF): groups and streams are recreated.
          down: () => redis.stop(),
          up: () => redis.start(),
          downForMs: 5_000,
        },
        1_500,
      );
    });
  });

  describeWithKafka('on Kafka', () => {
    /** A cluster of the test's own, so consumer groups start empty. */
    const startMock = async (): Promise<KafkaMock> => {
      const mock = await startKafkaMock([`${RESERVATION_CONFIRMED}:${PARTITIONS}`]);
      cleanups.push(() => mock.stop());
      return mock;
    };
    const kafkaEnv = (brokers: string): Overrides => ({
      EVENT_BUS: 'kafka',
      KAFKA_BROKERS: brokers,
      KAFKA_TOPIC_PARTITIONS: String(PARTITIONS),
      // The mock makes a member joining a group that had members wait sessionTimeout - 1 s.
      // 6 s rather than 3, as in the bus contract: under the whole suite's load heartbeats can
      // miss 3 s, and the rebalances that follow keep a group from consuming for long spells.
      KAFKA_SESSION_TIMEOUT_MS: String(SESSION_TIMEOUT_MS),
      KAFKA_PUBLISH_TIMEOUT_MS: '3000',
      // A killed process's claimed data-platform sends come back after this lease.
      DELIVERY_LEASE_MS: '3000',
    });

    it('delivers every payment to each consumer once, and drains the backlog after every broker was down', async () => {
      const cluster = await startMock();
      await survivesAnOutage(
        kafkaEnv(cluster.brokers),
        {
          down: async () => {
            await cluster.command('down -1');
          },
          up: async () => {
            await cluster.command('up -1');
          },
          // Longer than a member's session: every group has to be joined again.
          downForMs: SESSION_TIMEOUT_MS + 1_000,
        },
        // A publish waits up to KAFKA_PUBLISH_TIMEOUT_MS (3 s) for the brokers.
        1_500,
      );
    });

    it('starts and takes payments while every broker is down, and delivers them once Kafka is back', async () => {
      const cluster = await startMock();
      const receiver = await startPlatform();
      await cluster.command('down -1');
      const started = performance.now();
      const server = await start({ ...kafkaEnv(cluster.brokers), DATA_PLATFORM_URL: receiver.url });
      // Not held up by the brokers (one connection attempt alone waits 30 s).
      expect(performance.now() - started).toBeLessThan(15_000);
      const concert = await createConcert(db.pool, { seats: 10, price: 1_000 });
      for (let seat = 0; seat < 5; seat++) await buy(server.client, concert, seat);
      expect(await unsentOf(concert.concertId)).toBe(5);

      await cluster.command('up -1');
      await expectDrained([concert.concertId], receiver, 5);
    });

    it('loses nothing and applies nothing twice after kill -9 between publishing a batch and marking it sent', async () => {
      const cluster = await startMock();
      const receiver = await startPlatform();
      const [first, second] = await concertsInOtherShards();
      const secondShard = await shardOf(second.concertId);
      // Holds the second concert's outbox shard, so its events wait until this test lets go:
      // a lease owned by 'test', whose presence lock this connection holds (a live owner).
      const owner = new pg.Client({ connectionString: db.url });
      owner.on('error', () => undefined);
      await owner.connect();
      cleanups.push(() => owner.end());
      await owner.query('SELECT pg_advisory_lock($1, hashtext($2))', [PRESENCE_LOCK, 'test']);
      await db.pool.query(
        `INSERT INTO outbox_relay_leases (shard, owner, lease_until) VALUES ($1, 'test', now() + interval '1 hour')
         ON CONFLICT (shard) DO UPDATE SET owner = 'test', lease_until = excluded.lease_until`,
        [secondShard],
      );
      const env = {
        ...(kafkaEnv(cluster.brokers) as Record<string, string>),
        DATABASE_URL: db.url,
        QUEUE_BACKEND: 'postgres',
        MAX_ACTIVE: '1000',
        DATA_PLATFORM_URL: receiver.url,
        DELIVERY_INTERVAL_MS: '50',
        OUTBOX_LEASE_MS: '500',
      };
      // Its relay runs only when a payment wakes it.
      const victim = await spawnServer({ ...env, OUTBOX_INTERVAL_MS: '60000' });
      cleanups.push(async () => {
        victim.child.kill('SIGKILL');
        await victim.exited;
      });
      const client = createClient(victim.url);
      for (let seat = 0; seat < 5; seat++) await buy(client, first, seat);
      await expect.poll(() => rankingOf(first.concertId), { timeout: DRAIN_MS }).toBe(5);
      for (let seat = 0; seat < 5; seat++) await buy(client, second, seat);
      expect(await unsentOf(second.concertId)).toBe(5);

      // The test's transaction locks the second concert's outbox rows (the relay will publish
      // them, then wait to mark them sent) and its ranking row (its ranking consumer will wait
      // in the middle of the partition).
      await db.pool.query(
        `INSERT INTO concert_ranking (concert_id, confirmed_count) VALUES ($1, 0)`,
        [second.concertId],
      );
      const blocker = new pg.Client({ connectionString: db.url });
      blocker.on('error', () => undefined);
      await blocker.connect();
      await blocker.query('BEGIN');
      await blocker.query(`SELECT 1 FROM outbox WHERE published_at IS NULL FOR UPDATE`);
      await blocker.query(`SELECT 1 FROM concert_ranking WHERE concert_id = $1 FOR UPDATE`, [
        second.concertId,
      ]);
      await db.pool.query(
        `UPDATE outbox_relay_leases SET lease_until = now() - interval '1 second' WHERE shard = $1`,
        [secondShard],
      );
      // One more payment wakes the relay: it publishes the second concert's batch to Kafka.
      await buy(client, first, 5);
      await expect
        .poll(() => lockWaits(), { timeout: DRAIN_MS, interval: 100 })
        .toEqual({ markSent: 1, ranking: 1 });

      victim.child.kill('SIGKILL');
      await victim.exited;
      // PostgreSQL would still run the dead process's waiting statements once the locks are
      // free; a crashed host's connections end with it: end them before letting go.
      await db.pool.query(
        `SELECT pg_terminate_backend(pid) FROM pg_stat_activity
         WHERE datname = current_database() AND wait_event_type = 'Lock'`,
      );
      await blocker.query('ROLLBACK');
      await blocker.end();
      expect(await unsentOf(second.concertId)).toBe(5);

      const restarted = await start({
        ...kafkaEnv(cluster.brokers),
        DATA_PLATFORM_URL: receiver.url,
        OUTBOX_LEASE_MS: '500',
        OUTBOX_INTERVAL_MS: '50',
      });
      await expectDrained([first.concertId, second.concertId], receiver, 11, true);
      expect(await rankingOf(first.concertId)).toBe(6);
      expect(await rankingOf(second.concertId)).toBe(5);
      expect(restarted.container.bus.name).toBe('kafka');

      // The crash really fell between publish and mark-sent: the topic holds the second
      // concert's batch twice (published, then published again after the restart).
      const copies = await copiesInTopic(cluster.brokers, 16);
      const secondIds = await eventIdsOf(second.concertId);
      expect(secondIds).toHaveLength(5);
      for (const id of secondIds) expect(copies.get(id)).toBe(2);
      expect([...copies.values()].reduce((a, b) => a + b, 0)).toBe(16);
    });
  });

  /** Two concerts whose outbox rows fall in different relay shards. */
  async function concertsInOtherShards(): Promise<[ConcertFixture, ConcertFixture]> {
    const first = await createConcert(db.pool, { seats: 20, price: 1_000 });
    for (;;) {
      const second = await createConcert(db.pool, { seats: 20, price: 1_000 });
      if ((await shardOf(second.concertId)) !== (await shardOf(first.concertId)))
        return [first, second];
    }
  }
  async function shardOf(concertId: number): Promise<number> {
    const { rows } = await db.pool.query<{ shard: number }>(
      `SELECT (hashtext($1) & 2147483647) % $2 AS shard`,
      [String(concertId), RELAY_SHARDS],
    );
    return rows[0]!.shard;
  }
  async function lockWaits() {
    const { rows } = await db.pool.query<{ query: string }>(
      `SELECT query FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'`,
    );
    return {
      markSent: rows.filter((row) => row.query.includes('UPDATE outbox SET published_at')).length,
      ranking: rows.filter((row) => row.query.includes('concert_ranking')).length,
    };
  }
  async function unsentOf(concertId: number): Promise<number> {
    const { rows } = await db.pool.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM outbox WHERE key = $1 AND published_at IS NULL`,
      [String(concertId)],
    );
    return rows[0]!.n;
  }
  async function eventIdsOf(concertId: number): Promise<string[]> {
    const { rows } = await db.pool.query<{ event_id: string }>(
      `SELECT event_id FROM outbox WHERE key = $1`,
      [String(concertId)],
    );
    return rows.map((row) => row.event_id);
  }

  /** Reads the whole topic with a group of its own: how many copies of each event it holds. */
  async function copiesInTopic(brokers: string, expected: number): Promise<Map<string, number>> {
    // logLevel 0: NOTHING (the client logs joins and rebalances to stdout otherwise).
    const kafka = new kafkaModule!.Kafka({ kafkaJS: { brokers: brokers.split(','), logLevel: 0 } });
    const consumer = kafka.consumer({
      kafkaJS: { groupId: `audit-${randomUUID()}`, fromBeginning: true, autoCommit: false },
    });
    const copies = new Map<string, number>();
    let total = 0;
    await consumer.connect();
    try {
      await consumer.subscribe({ topics: [RESERVATION_CONFIRMED] });
      await consumer.run({
        eachMessage: ({ message }) => {
          const { eventId } = JSON.parse(message.value!.toString('utf8')) as { eventId: string };
          copies.set(eventId, (copies.get(eventId) ?? 0) + 1);
          total += 1;
          return Promise.resolve();
        },
      });
      await expect.poll(() => total, { timeout: DRAIN_MS }).toBeGreaterThanOrEqual(expected);
      // Anything beyond the expected count would arrive now.
      await new Promise((resolve) => setTimeout(resolve, 1_000));
    } finally {
      await consumer.disconnect();
    }
    return copies;
  }
});
