import { Redis } from 'ioredis';
import type { RedisClient } from '../../src/redis/client.js';
import { expect, it } from 'vitest';
import { redisKeys } from '../../src/redis/keys.js';
import { SyncedRateLimitStore } from '../../src/rate-limits/rate-limit.store.js';
import { describeWithRedis, useTestRedis } from '../support/redis.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
/** Long enough that only the test's own flush() syncs. */
const manualSync = 60_000;

/** The synced rate-limit store on a real Redis: exact alone, shared after a sync, local without Redis. */
describeWithRedis('rate-limit counts synced through Redis', () => {
  const testRedis = useTestRedis();

  /** `count` instances sharing one prefix, as separate processes would. */
  const instances = (
    count: number,
    syncMs = manualSync,
    client: RedisClient = testRedis.client,
  ) => {
    const prefix = testRedis.prefix();
    const errors: unknown[] = [];
    const keys = redisKeys(prefix);
    const stores = Array.from(
      { length: count },
      () =>
        new SyncedRateLimitStore({
          redis: client,
          keyOf: keys.rateLimit,
          syncMs,
          onSyncError: (error) => errors.push(error),
        }),
    );
    return { stores, errors, keyOf: keys.rateLimit };
  };
  const incr = (store: SyncedRateLimitStore, key: string, windowMs = 10_000) =>
    new Promise<{ current: number; ttl: number }>((resolve, reject) =>
      store.incr(
        key,
        (error, result) =>
          error || !result ? reject(error ?? new Error('no result')) : resolve(result),
        windowMs,
      ),
    );

  it('counts exactly on one instance, before and after syncing, and keeps the window in Redis', async () => {
    const { stores, keyOf } = instances(1);
    const store = stores[0]!;
    const currents = [];
    for (let i = 0; i < 5; i++) currents.push((await incr(store, 'queue:7')).current);
    expect(currents).toEqual([1, 2, 3, 4, 5]);
    expect(await testRedis.client.exists(keyOf('queue:7'))).toBe(0); // nothing sent before the sync
    await store.flush();
    expect(await testRedis.client.get(keyOf('queue:7'))).toBe('5');
    const ttl = await testRedis.client.pttl(keyOf('queue:7'));
    expect(ttl).toBeGreaterThan(9_000);
    expect(ttl).toBeLessThanOrEqual(10_000);
    const next = await incr(store, 'queue:7');
    expect(next.current).toBe(6);
    expect(next.ttl).toBeLessThanOrEqual(10_000);
    expect((await incr(store, 'queue:8')).current).toBe(1); // another key counts apart
  });

  it("limits an instance by the others' requests once it has synced", async () => {
    const { stores } = instances(2);
    const [a, b] = stores as [SyncedRateLimitStore, SyncedRateLimitStore];
    for (let i = 0; i < 10; i++) await incr(a, 'ip:1');
    await a.flush();
    // b has not synced yet: its first request is judged on its own count (the bounded overshoot)…
    expect((await incr(b, 'ip:1')).current).toBe(1);
    await b.flush();
    // …and from its sync on, on everyone's.
    expect((await incr(b, 'ip:1')).current).toBe(12);
    // a read the shared count at its own last sync (10) and learns of b's two at its next one.
    expect((await incr(a, 'ip:1')).current).toBe(11);
    await b.flush();
    await a.flush();
    expect((await incr(a, 'ip:1')).current).toBe(14);
  });

  it('overshoots a limit across instances by at most what each accepts between syncs', async () => {
    // Race: two instances take bursts of requests for one key at the same time and sync after
    // each burst. Proves the shared count is never lost (every request reaches Redis once) and
    // that accepted requests stay within max + one burst per instance.
    const { stores, keyOf } = instances(2);
    const max = 50;
    const burst = 7;
    let accepted = 0;
    for (let round = 0; round < 20; round++) {
      const replies = await Promise.all(
        stores.flatMap((store) => Array.from({ length: burst }, () => incr(store, 'queue:9'))),
      );
      accepted += replies.filter((reply) => reply.current <= max).length;
      await Promise.all(stores.map((store) => store.flush()));
    }
    expect(accepted).toBeGreaterThanOrEqual(max);
    expect(accepted).toBeLessThanOrEqual(max + 2 * burst);
    expect(await testRedis.client.get(keyOf('queue:9'))).toBe(String(20 * 2 * burst));
  });

  it('syncs on its own within the interval', async () => {
    const { stores, keyOf } = instances(1, 20);
    await incr(stores[0]!, 'account:3');
    await incr(stores[0]!, 'account:3');
    await expect.poll(() => testRedis.client.get(keyOf('account:3')), { timeout: 2_000 }).toBe('2');
  });

  it('starts a new count when the window ends, in Redis and locally', async () => {
    const { stores, keyOf } = instances(1);
    const store = stores[0]!;
    for (let i = 0; i < 3; i++) await incr(store, 'queue:4', 300);
    await store.flush();
    expect(await testRedis.client.pttl(keyOf('queue:4'))).toBeLessThanOrEqual(300);
    await sleep(350);
    expect(await testRedis.client.exists(keyOf('queue:4'))).toBe(0);
    expect((await incr(store, 'queue:4', 300)).current).toBe(1);
    await store.flush();
    expect(await testRedis.client.get(keyOf('queue:4'))).toBe('1');
  });

  it('keeps counting locally when Redis is unavailable, and never fails a request', async () => {
    const down = new Redis({
      port: 1,
      lazyConnect: true,
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      retryStrategy: () => null,
    });
    const { stores, errors } = instances(1, 10, down);
    const store = stores[0]!;
    const currents = [];
    for (let i = 0; i < 4; i++) currents.push((await incr(store, 'ip:2')).current);
    await expect.poll(() => errors.length, { timeout: 2_000 }).toBeGreaterThan(0);
    for (let i = 0; i < 2; i++) currents.push((await incr(store, 'ip:2')).current);
    expect(currents).toEqual([1, 2, 3, 4, 5, 6]);
    down.disconnect();
  });
});
