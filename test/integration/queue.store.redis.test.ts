import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { toAppError } from '../../src/http/error-mapping.js';
import { accessError, effectiveStatus } from '../../src/modules/queue/queue.rules.js';
import {
  createRedisQueueStore,
  type RedisQueueOptions,
} from '../../src/modules/queue/queue.store.redis.js';
import {
  createRedisClient,
  isRedisUnavailable,
  redisReady,
  type RedisClient,
} from '../../src/redis/client.js';
import { queueKeyOrder, redisKeys } from '../../src/redis/keys.js';
import { createTestDatabase, postgresAvailable } from '../support/db.js';
import { startTestServer } from '../support/server.js';
import {
  closeRedis,
  connectTestRedis,
  deletePrefix,
  describeWithRedis,
  redisUrl,
  testKeyPrefix,
  travelRedis,
} from '../support/redis.js';

/** A TCP proxy to the test Redis that can hold back Redis's replies (a stalled network). */
async function stallableProxy() {
  const target = new URL(redisUrl);
  let stalled = false;
  const held: { socket: net.Socket; data: Buffer }[] = [];
  const sockets = new Set<net.Socket>();
  const server = net.createServer((downstream) => {
    const upstream = net.connect(Number(target.port || 6379), target.hostname);
    for (const socket of [downstream, upstream]) {
      sockets.add(socket);
      socket.on('error', () => undefined);
      socket.on('close', () => {
        downstream.destroy();
        upstream.destroy();
      });
    }
    downstream.on('data', (data) => upstream.write(data));
    upstream.on('data', (data) => {
      if (stalled) held.push({ socket: downstream, data });
      else downstream.write(data);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  return {
    url: `redis://127.0.0.1:${port}`,
    stall: () => {
      stalled = true;
    },
    resume: () => {
      stalled = false;
      for (const { socket, data } of held.splice(0)) socket.write(data);
    },
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

/** A local port with nothing listening on it. */
async function closedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

describeWithRedis('redis queue store: what only this backend has to prove', () => {
  const cleanup: (() => Promise<unknown>)[] = [];
  afterEach(async () => {
    for (const step of cleanup.splice(0).reverse()) await step();
  });

  const openStore = async (options: Partial<RedisQueueOptions> = {}) => {
    const prefix = testKeyPrefix();
    const client = await connectTestRedis();
    cleanup.push(() => closeRedis(client));
    cleanup.push(() => deletePrefix(client, prefix));
    const store = createRedisQueueStore(client, {
      keyPrefix: prefix,
      maxActive: 1,
      activeTtlSeconds: 60,
      idleSeconds: 100,
      testClock: true,
      ...options,
    });
    return {
      store,
      client,
      prefix,
      travel: (seconds: number) => travelRedis(client, prefix, seconds),
    };
  };

  it('keeps every key of a queue under one hash tag (one cluster slot) and inside its prefix', async () => {
    const { store, client, prefix, travel } = await openStore();
    const shopper = await store.join(1);
    await store.join(2);
    const { token } = await store.join(3);
    await store.join(4);
    // A leave from the line, and a shopper's expiry (a payment: `freed` counts it).
    await store.expire(token);
    await store.expire(shopper.token);
    await travel(1);
    await store.admit();
    const { queue, pattern } = redisKeys(prefix);
    const stored: string[] = [];
    let cursor = '0';
    do {
      const [next, keys] = await client.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
      cursor = next;
      stored.push(...keys);
    } while (cursor !== '0');
    // Every key the queue wrote is one of its declared keys, and all share the hash tag. (Only
    // the stream backend writes `pending` and `unlogged`; only a room with an admission rate
    // writes `allowance`, and the house room has none.)
    const unwritten = new Set(['pending', 'allowance']);
    expect(new Set(stored)).toEqual(
      new Set(queueKeyOrder.filter((name) => !unwritten.has(name)).map((name) => queue[name])),
    );
    for (const key of stored) expect(key.startsWith(`{${prefix}:queue}:`)).toBe(true);
  });

  it('lets a hold that passed the token check just before expiry extend the token after expiresAt, until the sweep takes it', async () => {
    const { store, travel } = await openStore({ sweepDelayMs: 2_000 });
    const shopper = await store.join(1);
    const next = await store.join(2);
    expect(shopper.status).toBe('ACTIVE');
    // The hold's request checks the token now; its transaction commits 60.5 s later (an
    // exaggerated stand-in for the milliseconds between the check and holdTaken).
    const checked = (await store.find(shopper.token))!;
    expect(accessError(checked.state, checked.now, 100_000, 'hold', 7)).toBeNull();
    await travel(60.5);
    await store.admit();
    // Reads say EXPIRED at expiresAt, but the sweep has not freed the slot yet.
    expect((await store.poll(shopper.token))!.status).toBe('EXPIRED');
    expect((await store.poll(next.token))!).toMatchObject({ status: 'WAITING', position: 1 });

    const committed = (await store.find(shopper.token))!;
    await store.holdTaken(shopper.token, new Date(committed.now.getTime() + 300_000), 7);
    const held = (await store.find(shopper.token))!;
    expect(effectiveStatus(held.state, held.now, 100_000)).toBe('ACTIVE');
    expect(accessError(held.state, held.now, 100_000, 'pay', 7)).toBeNull();
    expect(accessError(held.state, held.now, 100_000, 'browse-concerts')).toBe(
      'QUEUE_TOKEN_EXPIRED',
    );
    await travel(10);
    await store.admit();
    expect((await store.poll(next.token))!.status).toBe('WAITING');
  });

  it('never extends a token the sweep has taken: a hold committing too late leaves it EXPIRED', async () => {
    const { store, travel } = await openStore({ sweepDelayMs: 2_000 });
    const shopper = await store.join(1);
    const next = await store.join(2);
    await travel(62.5);
    expect((await store.admit()).expired).toBe(1);
    expect((await store.poll(next.token))!.status).toBe('ACTIVE');
    const late = (await store.find(shopper.token))!;
    await store.holdTaken(shopper.token, new Date(late.now.getTime() + 300_000), 7);
    const after = (await store.find(shopper.token))!;
    expect(after.state.status).toBe('EXPIRED');
    expect(after.state.holdConcertId).toBeNull();
    expect((await store.poll(shopper.token))!.status).toBe('EXPIRED');
  });

  it('keeps answering EXPIRED for the retention time, then forgets the token', async () => {
    const { store, travel } = await openStore({ expiredRetentionSeconds: 60 });
    const { token } = await store.join(1);
    expect(await store.expire(token)).toBe(true);
    await travel(59);
    await store.admit();
    expect((await store.poll(token))!.status).toBe('EXPIRED');
    await travel(2);
    await store.admit();
    expect(await store.poll(token)).toBeNull();
    expect(await store.find(token)).toBeNull();
    // The user joins afresh with a new token.
    const again = await store.join(1);
    expect(again.token).not.toBe(token);
    expect(again.status).toBe('ACTIVE');
  });

  describe('when Redis does not answer', () => {
    const storeOn = (client: RedisClient) =>
      createRedisQueueStore(client, {
        keyPrefix: testKeyPrefix(),
        maxActive: 1,
        activeTtlSeconds: 60,
        idleSeconds: 100,
      });

    it('fails a call at once while disconnected, as 503 SERVICE_UNAVAILABLE', async () => {
      const client = createRedisClient({
        url: `redis://127.0.0.1:${await closedPort()}`,
        commandTimeoutMs: 500,
      });
      cleanup.push(() => closeRedis(client));
      expect(await redisReady(client, 2_000)).toBe(false);
      const started = Date.now();
      const error = await storeOn(client)
        .join(1)
        .then(
          () => null,
          (failure: unknown) => failure,
        );
      expect(Date.now() - started).toBeLessThan(400);
      expect(isRedisUnavailable(error)).toBe(true);
      expect(toAppError(error)).toMatchObject({ status: 503, code: 'SERVICE_UNAVAILABLE' });
    });

    it('times a stalled call out after the command timeout, as 503, and recovers when replies flow again', async () => {
      const proxy = await stallableProxy();
      cleanup.push(() => proxy.close());
      const client = createRedisClient({ url: proxy.url, commandTimeoutMs: 200 });
      cleanup.push(() => closeRedis(client));
      expect(await redisReady(client, 2_000)).toBe(true);
      const store = storeOn(client);
      const view = await store.join(1);
      proxy.stall();
      const started = Date.now();
      const error = await store.poll(view.token).then(
        () => null,
        (failure: unknown) => failure,
      );
      expect(Date.now() - started).toBeGreaterThanOrEqual(150);
      expect(Date.now() - started).toBeLessThan(1_500);
      expect((error as Error).message).toMatch(/timed out/);
      expect(toAppError(error)).toMatchObject({ status: 503, code: 'SERVICE_UNAVAILABLE' });
      proxy.resume();
      expect((await store.poll(view.token))!.status).toBe('ACTIVE');
    });

    it('does not call a Lua or protocol error a Redis outage', () => {
      const scriptBug = Object.assign(new Error('ERR user_script:1: attempt to call a nil value'), {
        name: 'ReplyError',
      });
      expect(isRedisUnavailable(scriptBug)).toBe(false);
      expect(toAppError(scriptBug).status).toBe(500);
      const loading = Object.assign(new Error('LOADING Redis is loading the dataset in memory'), {
        name: 'ReplyError',
      });
      expect(isRedisUnavailable(loading)).toBe(true);
    });
  });

  describe.skipIf(!postgresAvailable)('through the API', () => {
    it('answers 503 SERVICE_UNAVAILABLE (never 500) on every queue call while Redis is down', async () => {
      const db = await createTestDatabase();
      cleanup.push(() => db.drop());
      const server = await startTestServer(db, {
        QUEUE_BACKEND: 'redis',
        REDIS_URL: `redis://127.0.0.1:${await closedPort()}`,
        REDIS_KEY_PREFIX: testKeyPrefix(),
      });
      cleanup.push(() => server.close());
      const joined = await server.client.join(1);
      expect([joined.status, joined.code]).toEqual([503, 'SERVICE_UNAVAILABLE']);
      const polled = await server.client.status('A'.repeat(32));
      expect([polled.status, polled.code]).toEqual([503, 'SERVICE_UNAVAILABLE']);
      const browsing = await server.client.concerts('A'.repeat(32));
      expect([browsing.status, browsing.code]).toEqual([503, 'SERVICE_UNAVAILABLE']);
    });

    it('quits the Redis client after the workers stop', async () => {
      const db = await createTestDatabase();
      cleanup.push(() => db.drop());
      const server = await startTestServer(db, { QUEUE_BACKEND: 'redis' });
      expect((await server.client.join(1)).data.status).toBe('ACTIVE');
      const redis = server.container.redis!;
      expect(redis.status).toBe('ready');
      await server.close();
      expect(redis.status).toBe('end');
    });
  });
});
