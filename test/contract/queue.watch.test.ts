import type { RedisClient } from '../../src/redis/client.js';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase, type Database } from '../../src/db/client.js';
import { createPostgresQueueStore } from '../../src/modules/queue/queue.store.postgres.js';
import { createRedisQueueStore } from '../../src/modules/queue/queue.store.redis.js';
import type { QueueStore } from '../../src/modules/queue/queue.store.js';
import { createTestDatabase, describeWithPostgres, type TestDatabase } from '../support/db.js';
import { travel } from '../support/fixtures.js';
import { describeWithKafka, startKafkaMock, type KafkaMock } from '../support/kafka.js';
import { closeSpares, openStreamRoom } from '../support/stream-queue.js';
import {
  closeRedis,
  connectTestRedis,
  deletePrefix,
  describeWithRedis,
  testKeyPrefix,
  travelRedis,
} from '../support/redis.js';

interface WatchOptions {
  maxActive: number;
  activeTtlSeconds: number;
  idleSeconds: number;
  rateWindowSeconds: number;
}

interface WatchHarness {
  store: QueueStore;
  travel(seconds: number): Promise<void>;
  close(): Promise<void>;
}

/**
 * QueueStore.watch — the batched read behind the live position streams — on every backend: the
 * same answers as one poll per token, a poll's touch, and the admission rate over its window.
 */
function watchContract(open: (options: WatchOptions) => Promise<WatchHarness>): void {
  const opened: WatchHarness[] = [];
  const fresh = async (options: Partial<WatchOptions> = {}) => {
    const harness = await open({
      maxActive: 2,
      activeTtlSeconds: 60,
      idleSeconds: 100,
      rateWindowSeconds: 30,
      ...options,
    });
    opened.push(harness);
    return harness;
  };
  afterEach(async () => {
    for (const harness of opened.splice(0)) await harness.close();
  });

  it('reads every token with the status and exact position a poll gives; unknown tokens are absent', async () => {
    const { store } = await fresh({ maxActive: 2 });
    const tokens: string[] = [];
    for (let user = 1; user <= 8; user++) tokens.push((await store.join(user)).token);
    await store.admit();
    expect(await store.expire(tokens[4]!)).toBe(true);
    const unknown = 'U'.repeat(32);
    const { views } = await store.watch([...tokens, unknown]);
    expect(views.has(unknown)).toBe(false);
    expect(views.size).toBe(8);
    expect(tokens.map((token) => [views.get(token)?.status, views.get(token)?.position])).toEqual([
      ['ACTIVE', 0],
      ['ACTIVE', 0],
      ['WAITING', 1],
      ['WAITING', 2],
      ['EXPIRED', 0],
      ['WAITING', 3],
      ['WAITING', 4],
      ['WAITING', 5],
    ]);
    for (const token of tokens) {
      const polled = await store.poll(token);
      const watched = views.get(token)!;
      expect(watched).toMatchObject({
        token,
        userId: polled!.userId,
        status: polled!.status,
        position: polled!.position,
      });
      if (watched.status === 'ACTIVE') expect(watched.expiresAt).toEqual(polled!.expiresAt);
    }
  });

  it('answers an empty list with no views and the admission rate', async () => {
    const { store } = await fresh();
    const { views, admissionRate } = await store.watch([]);
    expect(views.size).toBe(0);
    expect(admissionRate).toBe(0);
  });

  it('reads more tokens than one batch, with positions 1..n in arrival order', async () => {
    const { store } = await fresh({ maxActive: 1 });
    const tokens: string[] = [];
    for (let start = 1; start <= 1_200; start += 100) {
      const views = await Promise.all(Array.from({ length: 100 }, (_, i) => store.join(start + i)));
      tokens.push(...views.map((view) => view.token));
    }
    await store.admit();
    const { views } = await store.watch(tokens);
    expect(views.size).toBe(1_200);
    const waiting = [...views.values()]
      .filter((view) => view.status === 'WAITING')
      .sort((a, b) => a.position - b.position);
    expect(waiting).toHaveLength(1_199);
    expect(waiting.map((view) => view.position)).toEqual(
      Array.from({ length: 1_199 }, (_, i) => i + 1),
    );
    // Spot checks against single polls (arrival order within each parallel batch is the store's).
    for (const token of [tokens[1]!, tokens[600]!, tokens[1_199]!])
      expect(views.get(token)?.position).toBe((await store.poll(token))?.position);
  });

  it('keeps a WAITING token alive like a poll does, and leaves the others to expire', async () => {
    const harness = await fresh({ maxActive: 1, idleSeconds: 10 });
    const { store } = harness;
    const move = (seconds: number) => harness.travel(seconds);
    await store.join(1);
    await store.admit();
    const watched = (await store.join(2)).token;
    const ignored = (await store.join(3)).token;
    await move(6);
    const first = (await store.watch([watched])).views.get(watched)!;
    expect(first.status).toBe('WAITING');
    await move(6);
    await store.admit();
    const { views } = await store.watch([watched, ignored]);
    expect(views.get(watched)).toMatchObject({ status: 'WAITING', position: 1 });
    expect(views.get(ignored)?.status).toBe('EXPIRED');
    // The WAITING expiry shown moved with the touch: about the idle lifetime from the last watch.
    expect(views.get(watched)!.expiresAt!.getTime()).toBeGreaterThan(
      first.expiresAt!.getTime() - 1_000,
    );
  });

  it('measures the steady admission rate since the first run of its window, across expiries, and forgets older admissions', async () => {
    // A 30 s window: six buckets of 5 s (queue.estimate.ts).
    const harness = await fresh({ maxActive: 3, rateWindowSeconds: 30 });
    const { store } = harness;
    const move = (seconds: number) => harness.travel(seconds);
    const tokens: string[] = [];
    for (let user = 1; user <= 6; user++) tokens.push((await store.join(user)).token);
    await store.admit();
    // Three admitted at one instant: one bucket, a burst, no pace yet.
    expect((await store.watch([])).admissionRate).toBe(0);
    // An admitted token that has since expired still counts; its successor lands 6 s later, and
    // one more 6 s after that.
    await store.expire(tokens[0]!);
    await move(6);
    await store.admit();
    await store.expire(tokens[1]!);
    await move(6);
    await store.admit();
    // Admissions 12 s (3), 6 s (1) and 0 s (1) ago: 2 in the 12 s since the first run, which
    // only starts the span. PostgreSQL admits the first three in one run; Redis at their joins,
    // ms apart: the first starts the span, the other two are a burst in the oldest bucket's 2 s,
    // counted at the pace of the fullest other bucket (1 in 5 s): 0.4 more. (The test clock may
    // add a few ms.)
    const { admissionRate, rates } = await store.watch([tokens[5]!]);
    for (const rate of [admissionRate, rates.get(0)!]) {
      expect(rate).toBeGreaterThan(2 / 12 - 0.005);
      expect(rate).toBeLessThan(2.4 / 12 + 0.005);
    }
    await move(31);
    await store.admit();
    expect((await store.watch([tokens[5]!])).admissionRate).toBe(0);
  });
}

describeWithPostgres('queue store watch: postgres backend', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase();
  });
  afterAll(async () => {
    await db?.drop();
  });

  describe('contract', () => {
    watchContract(async (options) => {
      await db.pool.query('TRUNCATE queue_tokens');
      const database: Database = openDatabase({
        url: db.url,
        poolSize: 5,
        pgliteDir: '',
        pgliteInMemory: false,
      });
      return {
        store: createPostgresQueueStore(database, options),
        travel: (seconds) => travel(db.pool, seconds),
        close: () => database.close(),
      };
    });
  });
});

describeWithRedis('queue store watch: redis backend', () => {
  watchContract(async (options) => {
    const prefix = testKeyPrefix();
    const client: RedisClient = await connectTestRedis();
    return {
      store: createRedisQueueStore(client, { ...options, keyPrefix: prefix, testClock: true }),
      travel: (seconds) => travelRedis(client, prefix, seconds),
      async close() {
        await deletePrefix(client, prefix);
        await closeRedis(client);
      },
    };
  });
});

describeWithRedis('queue store watch: stream backend', () => {
  describeWithKafka('(Kafka log on a mock cluster)', () => {
    let mock: KafkaMock;
    beforeAll(async () => {
      mock = await startKafkaMock([]);
    });
    afterAll(async () => {
      if (mock) await closeSpares(mock);
      await mock?.stop();
    });

    watchContract(async (options) => {
      const room = await openStreamRoom(mock, { ...options, applyWaitMs: 10_000 });
      const { queue } = await room.open();
      return {
        store: queue.store,
        travel: (seconds) => room.travel(seconds),
        close: () => room.close(),
      };
    });
  });
});
