import { sql } from 'drizzle-orm';
import pino from 'pino';
import { afterAll, beforeAll, expect, it, describe } from 'vitest';
import { openDatabase, type Database } from '../../src/db/client.js';
import { migrateDatabase } from '../../src/db/migrate.js';
import { query } from '../../src/db/sql.js';
import {
  createLivePositions,
  type LiveClient,
  type LiveStatus,
} from '../../src/modules/queue/queue.live.js';
import { createPostgresQueueStore } from '../../src/modules/queue/queue.store.postgres.js';
import type { QueueStore } from '../../src/modules/queue/queue.store.js';

/** An open stream as the hub sees it, recording what it was sent. */
function recordingClient() {
  const sent: { state: LiveStatus; id: string }[] = [];
  let pings = 0;
  let ended = false;
  let writable = true;
  const client: LiveClient = {
    send: (state, id) => sent.push({ state, id }),
    ping: () => pings++,
    end: () => (ended = true),
    get writable() {
      return writable && !ended;
    },
  };
  return {
    client,
    sent,
    pings: () => pings,
    ended: () => ended,
    setWritable: (value: boolean) => (writable = value),
  };
}

/**
 * The live-positions hub over a real queue store (the embedded PostgreSQL): one batched read per
 * tick whatever the number of streams, a state only when it changed, slow clients skipping to the
 * latest state, the end after EXPIRED, heartbeats on quiet streams.
 */
describe('live positions hub', () => {
  let database: Database;
  let store: QueueStore;
  let watchCalls: number[] = [];

  beforeAll(async () => {
    database = openDatabase({ url: '', poolSize: 1, pgliteDir: '', pgliteInMemory: true });
    await migrateDatabase(database);
    const real = createPostgresQueueStore(database, {
      maxActive: 1,
      activeTtlSeconds: 600,
      idleSeconds: 600,
    });
    // The real store, counting how often (and with how many tokens) the hub reads it.
    store = {
      ...real,
      watch: (tokens) => {
        watchCalls.push(tokens.length);
        return real.watch(tokens);
      },
    };
  });
  afterAll(async () => {
    await database?.close();
  });

  const hub = (options: { heartbeatMs?: number; now?: () => number } = {}) =>
    createLivePositions({
      store,
      intervalMs: 60_000,
      heartbeatMs: options.heartbeatMs ?? 60_000,
      logger: pino({ level: 'silent' }),
      now: options.now,
    });

  it('reads every followed token in one call per tick and sends each stream only what changed', async () => {
    const views = [];
    for (let user = 1; user <= 300; user++) views.push(await store.join(user));
    await store.admit();
    // As if all had joined at this instant: on a loaded machine the joins above outlast the
    // store's touch interval (10 s), and a token crossing it between the two reads below would be
    // touched by the second one only — a new idle deadline, rightly sent.
    await query(database, sql`UPDATE queue_tokens SET last_seen_at = now()`);
    const live = hub();
    const clients = views.map((view) => {
      const recording = recordingClient();
      live.follow(view.token, recording.client, '');
      return recording;
    });
    // Two tabs on one token: both follow it, one read covers both.
    const secondTab = recordingClient();
    live.follow(views[299]!.token, secondTab.client, '');
    expect(live.size).toBe(301);

    watchCalls = [];
    live.wake();
    await expect.poll(() => clients[299]!.sent.length).toBe(1);
    expect(watchCalls).toEqual([300]);
    expect(clients[0]!.sent[0]!.state).toMatchObject({ status: 'ACTIVE', position: 0 });
    expect(clients[299]!.sent[0]!.state).toMatchObject({ status: 'WAITING', position: 299 });
    expect(secondTab.sent).toEqual(clients[299]!.sent);

    // Nothing changed: another tick reads once more and sends nothing.
    live.wake();
    await expect.poll(() => watchCalls.length).toBe(2);
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(clients.every((recording) => recording.sent.length === 1)).toBe(true);

    // The head leaves and the next is admitted: every stream behind moves by one, in one read.
    await store.expire(views[0]!.token);
    await store.admit();
    live.wake();
    await expect.poll(() => clients[299]!.sent.length).toBe(2);
    expect(watchCalls).toHaveLength(3);
    expect(clients[299]!.sent[1]!.state).toMatchObject({ status: 'WAITING', position: 298 });
    expect(clients[1]!.sent[1]!.state).toMatchObject({ status: 'ACTIVE', position: 0 });
    // The one that left got EXPIRED and its stream ended.
    expect(clients[0]!.sent.at(-1)!.state.status).toBe('EXPIRED');
    expect(clients[0]!.ended()).toBe(true);
    expect(live.size).toBe(300);
    await live.stop();
    expect(live.size).toBe(0);
    expect(clients.every((recording) => recording.ended())).toBe(true);
  });

  it('lets a client with a full buffer skip states and sends it the latest once it drains', async () => {
    const views = [];
    for (let user = 1_001; user <= 1_004; user++) views.push(await store.join(user));
    await store.admit();
    const live = hub();
    const slow = recordingClient();
    const last = views[3]!;
    live.follow(last.token, slow.client, '');
    live.wake();
    await expect.poll(() => slow.sent.length).toBe(1);
    const before = slow.sent[0]!.state.position;

    slow.setWritable(false);
    await store.expire(views[1]!.token);
    live.wake();
    await new Promise((resolve) => setTimeout(resolve, 50));
    await store.expire(views[2]!.token);
    live.wake();
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(slow.sent).toHaveLength(1);

    slow.setWritable(true);
    live.wake();
    await expect.poll(() => slow.sent.length).toBe(2);
    expect(slow.sent[1]!.state.position).toBe(before - 2);
    await live.stop();
  });

  it('ends a stream whose token the store no longer knows, and pings quiet streams', async () => {
    let clock = 0;
    const live = hub({ heartbeatMs: 15_000, now: () => clock });
    const gone = recordingClient();
    live.follow('N'.repeat(32), gone.client, '');
    const view = await store.join(2_001);
    const quiet = recordingClient();
    live.follow(view.token, quiet.client, '');
    live.wake();
    await expect.poll(() => gone.ended()).toBe(true);
    expect(gone.sent.map((entry) => entry.state)).toEqual([
      {
        status: 'EXPIRED',
        position: 0,
        expiresAt: null,
        estimatedWaitSeconds: null,
        concertId: null,
        ahead: 0,
        seatsLeft: null,
      },
    ]);
    expect(quiet.pings()).toBe(0);

    clock = 14_000;
    live.wake();
    await expect.poll(() => watchCalls.length).toBeGreaterThan(0);
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(quiet.pings()).toBe(0);
    clock = 15_500;
    live.wake();
    await expect.poll(() => quiet.pings()).toBe(1);
    expect(quiet.ended()).toBe(false);
    await live.stop();
  });
});
