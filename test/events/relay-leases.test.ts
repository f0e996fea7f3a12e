import pino from 'pino';
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import { openDatabase, type Database } from '../../src/db/client.js';
import { createPostgresPresence, type Presence } from '../../src/db/presence.js';
import type { EventBus } from '../../src/modules/events/bus.js';
import type { OutboxEvent } from '../../src/modules/events/events.js';
import { createOutboxRelay, type OutboxRelay } from '../../src/workers/outbox.relay.js';
import { createTestDatabase, describeWithPostgres, type TestDatabase } from '../support/db.js';
import { createConcert, type ConcertFixture } from '../support/fixtures.js';
import { spawnServer, type ServerProcess } from '../support/process.js';
import { startReceiver, type Receiver } from '../support/receiver.js';

const SHARDS = 4;

/**
 * The outbox relay's shard leases across stops, crashes and restarts (issue 12 item 4): a stop
 * ends between batches and hands the shards over, and a relay that is gone — killed, crashed or
 * disconnected — loses its shards at once, not after OUTBOX_LEASE_MS, while a live relay never
 * shares one.
 */
describeWithPostgres('outbox relay leases', () => {
  let db: TestDatabase;
  let concert: ConcertFixture;
  const processes: ServerProcess[] = [];
  const receivers: Receiver[] = [];
  const cleanups: (() => Promise<void>)[] = [];

  beforeAll(async () => {
    db = await createTestDatabase();
    concert = await createConcert(db.pool, { seats: 10, price: 1_000 });
  });
  afterEach(async () => {
    for (const server of processes.splice(0)) {
      if (server.child.exitCode === null && server.child.signalCode === null) {
        server.child.kill('SIGKILL');
        await server.exited;
      }
    }
    for (const receiver of receivers.splice(0)) await receiver.close();
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
    await db.pool.query(
      `TRUNCATE outbox, event_deliveries, processed_events, concert_ranking, outbox_relay_leases`,
    );
  });
  afterAll(async () => {
    await db?.drop();
  });

  /** `count` committed, unsent reservation events spread over `keys` keys (so over every shard). */
  const backlog = async (count: number, keys = 32) => {
    await db.pool.query(
      `INSERT INTO outbox (event_id, type, key, payload)
       SELECT gen_random_uuid(), 'reservation.confirmed', 'k' || (n % $2),
              jsonb_build_object('concertId', $3::bigint, 'seatId', $4::bigint, 'queueToken', 'gone-' || n)
       FROM generate_series(1, $1) AS n`,
      [count, keys, concert.concertId, concert.seatIds[0]],
    );
  };
  const count = async (sqlText: string) => (await db.pool.query<{ n: number }>(sqlText)).rows[0]!.n;
  const unsent = () => count(`SELECT count(*)::int AS n FROM outbox WHERE published_at IS NULL`);
  const leases = async () =>
    (
      await db.pool.query<{ shard: number; owner: string }>(
        `SELECT shard, owner FROM outbox_relay_leases ORDER BY shard`,
      )
    ).rows;

  const spawn = async (env: Record<string, string>) => {
    const server = await spawnServer({ DATABASE_URL: db.url, SEED_DEMO_DATA: 'false', ...env });
    processes.push(server);
    return server;
  };

  /**
   * Proves: SIGTERM while the relay works through a large backlog and the data platform answers
   * slowly exits 0 well within SHUTDOWN_TIMEOUT_MS — the relay and the delivery worker stop
   * after their batch in flight instead of running until the process is killed (exit 1) — and
   * the relay's leases are released. Nothing was sent twice on the way.
   */
  it('SIGTERM with a backlog and a slow platform exits 0 promptly and releases the leases', async () => {
    const TOTAL = 30_000;
    await backlog(TOTAL);
    const receiver = await startReceiver('accept');
    receivers.push(receiver);
    receiver.setDelay(300);
    const server = await spawn({
      DATA_PLATFORM_URL: receiver.url,
      OUTBOX_INTERVAL_MS: '50',
      DELIVERY_INTERVAL_MS: '50',
      // Waiting for the leases to run out would take a minute: only a release hands them over.
      OUTBOX_LEASE_MS: '60000',
      SHUTDOWN_TIMEOUT_MS: '10000',
    });
    // Mid-backlog, with sends to the slow platform in flight.
    await expect
      .poll(async () => TOTAL - (await unsent()), { timeout: 30_000, interval: 50 })
      .toBeGreaterThan(0);
    await expect.poll(() => receiver.received.length, { timeout: 10_000 }).toBeGreaterThan(0);
    expect((await leases()).length).toBeGreaterThan(0);

    const signalled = performance.now();
    server.child.kill('SIGTERM');
    const code = await server.exited;
    const exitMs = performance.now() - signalled;
    process.stdout.write(`relay shutdown: exit ${code} after ${Math.round(exitMs)} ms\n`);
    expect(code).toBe(0);
    expect(exitMs).toBeLessThan(5_000);
    expect(await leases()).toEqual([]);
    // It really stopped in the middle: the rest waits for the next instance.
    expect(await unsent()).toBeGreaterThan(0);
    const keys = receiver.received.map((entry) => entry.idempotencyKey);
    expect(new Set(keys).size).toBe(keys.length);
  });

  /**
   * Proves: after kill -9 the same instance, restarted, relays the shards its previous run held
   * at once — not after OUTBOX_LEASE_MS (a minute here): the dead run's presence lock went with
   * its connection, which tells the new run that the leases' owner is gone.
   */
  it('a restart after kill -9 takes its shards back without waiting for the lease', async () => {
    const env = { OUTBOX_INTERVAL_MS: '50', OUTBOX_LEASE_MS: '60000' };
    const victim = await spawn(env);
    await expect.poll(async () => (await leases()).length, { timeout: 10_000 }).toBe(SHARDS);
    const [before] = await leases();
    victim.child.kill('SIGKILL');
    await victim.exited;
    await backlog(400);

    const restarted = performance.now();
    await spawn(env);
    const listening = performance.now();
    await expect
      .poll(async () => (await leases()).filter((lease) => lease.owner !== before!.owner), {
        timeout: 10_000,
        interval: 20,
      })
      .not.toEqual([]);
    const takenMs = performance.now() - listening;
    await expect.poll(unsent, { timeout: 10_000, interval: 20 }).toBe(0);
    const drainedMs = performance.now() - listening;
    process.stdout.write(
      `relay takeover after kill -9: process up in ${Math.round(listening - restarted)} ms, first shard taken ${Math.round(takenMs)} ms later, backlog relayed after ${Math.round(drainedMs)} ms\n`,
    );
    const after = await leases();
    expect(after).toHaveLength(SHARDS);
    expect(after.every((lease) => lease.owner !== before!.owner)).toBe(true);
    expect(drainedMs).toBeLessThan(10_000);
  });

  /**
   * Proves the safety side, with two relays in this process running truly concurrently over one
   * backlog (batches of 20, every run of both started together): a shard is never being
   * published by both at the same time (the bus below flags any overlap), and every event is
   * published exactly once while both live. Then one relay's session dies without releasing
   * anything (as under kill -9): the other takes its shards on its next run although the leases
   * have a minute left.
   */
  it('two live relays never publish one shard at once; a dead one loses its shards at once', async () => {
    await backlog(2_000);
    const shardOf = new Map(
      (
        await db.pool.query<{ key: string; shard: number }>(
          `SELECT DISTINCT key, (hashtext(key) & 2147483647) % ${SHARDS} AS shard FROM outbox`,
        )
      ).rows.map((row) => [row.key, row.shard]),
    );
    const inFlight = new Map<number, string>();
    const overlaps: string[] = [];
    const published = new Map<string, number>();
    const busOf = (name: string): EventBus => ({
      name: 'inprocess',
      async publish(events: OutboxEvent[]) {
        const shards = new Set(events.map((event) => shardOf.get(event.key)!));
        for (const shard of shards) {
          const other = inFlight.get(shard);
          if (other !== undefined && other !== name)
            overlaps.push(`${name} on ${shard} with ${other}`);
          inFlight.set(shard, name);
        }
        // Keeps the batch in flight across a few turns of the event loop, so a second
        // publisher of the same shard would be caught.
        await new Promise((resolve) => setTimeout(resolve, 2));
        for (const shard of shards) if (inFlight.get(shard) === name) inFlight.delete(shard);
        for (const event of events)
          published.set(event.eventId, (published.get(event.eventId) ?? 0) + 1);
      },
      subscribe: () => Promise.reject(new Error('not used')),
      close: () => Promise.resolve(),
    });
    const relays: { relay: OutboxRelay; presence: Presence; database: Database }[] = [];
    for (const name of ['first', 'second']) {
      const database = openDatabase({
        url: db.url,
        poolSize: 4,
        pgliteDir: '',
        pgliteInMemory: false,
      });
      const presence = createPostgresPresence(db.url);
      const relay = createOutboxRelay(database, busOf(name), {
        intervalMs: 60_000,
        batchSize: 20,
        leaseMs: 60_000,
        presence,
        logger: pino({ level: 'silent' }),
      });
      relays.push({ relay, presence, database });
      cleanups.push(async () => {
        await relay.stop();
        await database.close();
      });
    }

    // Both live: their runs race over the backlog, round after round.
    while ((await unsent()) > 0) await Promise.all(relays.map(({ relay }) => relay.runNow()));
    expect(overlaps).toEqual([]);
    expect(published.size).toBe(2_000);
    expect([...published.values()].every((times) => times === 1)).toBe(true);
    expect(await leases()).toHaveLength(SHARDS);

    // The session of a relay holding leases ends without a release (the leases still run for a
    // minute); the other takes them on its next run.
    const held = await leases();
    const [dead, survivor] = relays.sort(
      (a, b) =>
        held.filter((lease) => lease.owner === b.presence.owner()).length -
        held.filter((lease) => lease.owner === a.presence.owner()).length,
    ) as [(typeof relays)[number], (typeof relays)[number]];
    expect(held.some((lease) => lease.owner === dead.presence.owner())).toBe(true);
    await dead.presence.close();
    await backlog(400);
    await survivor.relay.runNow();
    expect(await unsent()).toBe(0);
    expect((await leases()).map((lease) => lease.owner)).toEqual(
      Array.from({ length: SHARDS }, () => survivor.presence.owner()),
    );
    expect(overlaps).toEqual([]);
    expect(published.size).toBe(2_400);
  });
});
