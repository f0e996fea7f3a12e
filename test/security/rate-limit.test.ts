import { afterAll, expect, it } from 'vitest';
import { describeWithPostgres } from '../support/db.js';
import {
  connectTestRedis,
  deletePrefix,
  describeWithRedis,
  testKeyPrefix,
} from '../support/redis.js';
import { startTestServer, type Overrides, type TestServer } from '../support/server.js';
import { useTestDatabase } from '../support/suite.js';

const limits: Overrides = {
  RATE_LIMIT_ENABLED: 'true',
  RATE_LIMIT_WINDOW_MS: '60000',
  RATE_LIMIT_QUEUE_MAX: '5',
  RATE_LIMIT_ACCOUNT_MAX: '3',
  RATE_LIMIT_IP_MAX: '40',
};

describeWithPostgres('rate limits', () => {
  const db = useTestDatabase();
  let server: TestServer;

  afterAll(async () => {
    await server?.close();
  });

  it('limits each user per route group with 429 and Retry-After; a flood never grows the line', async () => {
    server = await startTestServer(db, limits);
    const { client } = server;
    const flood = await Promise.all(Array.from({ length: 20 }, () => client.join(7)));
    const accepted = flood.filter((reply) => reply.status === 201);
    const limited = flood.filter((reply) => reply.status === 429);
    expect(accepted).toHaveLength(5);
    expect(limited).toHaveLength(15);
    for (const reply of limited) {
      expect(reply.code).toBe('RATE_LIMITED');
      expect(Number(reply.headers.get('retry-after'))).toBeGreaterThan(0);
    }
    expect(new Set(accepted.map((reply) => reply.data.token)).size).toBe(1);
    expect(await server.queue.tokenCount(7)).toBe(1);

    // Another user is not affected, and other route groups count separately.
    expect((await client.join(8)).status).toBe(201);
    expect((await client.balance(7)).status).toBe(200);
  });

  it('limits each client address across all routes', async () => {
    await server.close();
    server = await startTestServer(db, limits);
    // 50 different users (each within its own budget) from one address with room for 40.
    const replies = await Promise.all(
      Array.from({ length: 50 }, (_, i) => server.client.balance(100 + i)),
    );
    expect(replies.filter((reply) => reply.status === 200)).toHaveLength(40);
    expect(replies.filter((reply) => reply.code === 'RATE_LIMITED')).toHaveLength(10);
    // Probes are not rate limited.
    expect((await server.client.call('GET', '/health/live')).status).toBe(200);
  });

  /** Every API route, and the per-user budget its `config.rateLimitGroup` names (none: public lists). */
  const apiRoutes: [method: 'GET' | 'POST' | 'PATCH' | 'DELETE', url: string, group: string][] = [
    ['POST', '/api/v1/queue/token', 'queue'],
    ['GET', '/api/v1/queue/token', 'queue'],
    ['GET', '/api/v1/queue/token/stream', 'queue'],
    ['DELETE', '/api/v1/queue/token', 'queue'],
    ['GET', '/api/v1/reservations/concerts', 'booking'],
    ['GET', '/api/v1/reservations/concerts/1/seats', 'booking'],
    ['POST', '/api/v1/reservations/concerts/1/seats/hold', 'booking'],
    ['DELETE', '/api/v1/reservations/concerts/1/seats/hold', 'booking'],
    ['POST', '/api/v1/reservations', 'booking'],
    ['GET', '/api/v1/reservations/concerts/popular', 'none'],
    // Public, like the popular list: counted against the address only (decision 0064).
    ['GET', '/api/v1/queue/rooms', 'none'],
    ['GET', '/api/v1/reservations', 'account'],
    ['GET', '/api/v1/balance', 'account'],
    ['POST', '/api/v1/balance/charge', 'account'],
    ['GET', '/api/v1/admin/dead-letters', 'account'],
    ['POST', '/api/v1/admin/dead-letters/ranking/x/replay', 'account'],
    ['POST', '/api/v1/admin/venues', 'account'],
    ['GET', '/api/v1/admin/venues', 'account'],
    ['GET', '/api/v1/admin/venues/1', 'account'],
    ['PATCH', '/api/v1/admin/venues/1', 'account'],
    ['GET', '/api/v1/admin/audit', 'account'],
    ['GET', '/api/v1/reservations/concerts/1/sections', 'booking'],
    ['GET', '/api/v1/reservations/concerts/1/sections/floor/seats', 'booking'],
    ['POST', '/api/v1/admin/concerts', 'account'],
    ['GET', '/api/v1/admin/concerts', 'account'],
    ['GET', '/api/v1/admin/concerts/1', 'account'],
    ['PATCH', '/api/v1/admin/concerts/1', 'account'],
    ['DELETE', '/api/v1/admin/concerts/1', 'account'],
  ];

  it('counts each API route against the budget it names, and all of them against the address', async () => {
    await server?.close();
    server = await startTestServer(db, {
      ...limits,
      RATE_LIMIT_QUEUE_MAX: '1',
      RATE_LIMIT_BOOKING_MAX: '1',
      RATE_LIMIT_ACCOUNT_MAX: '1',
      RATE_LIMIT_IP_MAX: '1000',
    });
    // One request of the route, then one of each group: the group already spent is refused.
    const probes = {
      queue: '/api/v1/queue/token',
      booking: '/api/v1/reservations/concerts',
      account: '/api/v1/balance',
    };
    const counted: string[] = [];
    for (const [i, [method, url]] of apiRoutes.entries()) {
      const headers = {
        'client-id': String(300 + i),
        'queue-token': 'q8Vd3J0vW2c7cX1mQ0yZ6n4HkLr9Tt5A',
      };
      await server.app.inject({ method, url, headers });
      const spent: string[] = [];
      for (const [group, probe] of Object.entries(probes)) {
        const reply = await server.app.inject({ method: 'GET', url: probe, headers });
        if (reply.statusCode === 429) spent.push(group);
      }
      counted.push(`${method} ${url}: ${spent.join(',') || 'none'}`);
    }
    expect(counted).toEqual(apiRoutes.map(([method, url, group]) => `${method} ${url}: ${group}`));

    await server.close();
    server = await startTestServer(db, { ...limits, RATE_LIMIT_IP_MAX: '1' });
    const byAddress: string[] = [];
    const others = ['/health/live', '/health/ready', '/openapi.json', '/'];
    for (const [i, [method, url]] of [
      ...apiRoutes,
      ...others.map((url) => ['GET', url] as const),
    ].entries()) {
      const remoteAddress = `10.0.0.${i + 1}`;
      // A user of its own each time: only the address's budget can refuse the second request.
      const headers = { 'client-id': String(400 + i) };
      await server.app.inject({ method, url, remoteAddress, headers });
      const next = await server.app.inject({
        method: 'GET',
        url: '/api/v1/balance',
        remoteAddress,
        headers,
      });
      byAddress.push(`${method} ${url}: ${next.statusCode === 429 ? 'counted' : 'free'}`);
    }
    expect(byAddress).toEqual([
      ...apiRoutes.map(([method, url]) => `${method} ${url}: counted`),
      ...others.map((url) => `GET ${url}: free`),
    ]);
  });
});

describeWithRedis('rate limits shared through Redis', () => {
  const db = useTestDatabase();
  const servers: TestServer[] = [];
  const prefix = testKeyPrefix();

  afterAll(async () => {
    for (const server of servers) await server.close();
    const redis = await connectTestRedis();
    await deletePrefix(redis, prefix);
    redis.disconnect();
  });

  const twoInstances = async (overrides: Overrides) => {
    for (const server of servers.splice(0)) await server.close();
    for (let i = 0; i < 2; i++) {
      servers.push(
        await startTestServer(db, {
          ...limits,
          ...overrides,
          QUEUE_BACKEND: 'redis',
          REDIS_KEY_PREFIX: prefix,
        }),
      );
    }
    const [first, second] = servers as [TestServer, TestServer];
    return (i: number) => (i % 2 === 0 ? first : second);
  };

  it('counts one user exactly across instances when asked on every request', async () => {
    const instances = await twoInstances({ RATE_LIMIT_SYNC_MS: '0' });
    const replies = [];
    for (let i = 0; i < 10; i++) replies.push(await instances(i).client.join(9));
    expect(replies.filter((reply) => reply.status === 201)).toHaveLength(5);
    expect(replies.filter((reply) => reply.status === 429)).toHaveLength(5);
  });

  it('counts one user across instances with synced counts, overshooting by at most one sync', async () => {
    // Race: bursts of one user's joins on two instances at once. Each instance alone is exact, so
    // neither accepts more than the limit; after a sync both refuse: the limit is shared.
    const instances = await twoInstances({ RATE_LIMIT_SYNC_MS: '20' });
    const burst = await Promise.all(
      [0, 1].flatMap((i) => Array.from({ length: 8 }, () => instances(i).client.join(10))),
    );
    const accepted = burst.filter((reply) => reply.status === 201).length;
    expect(accepted).toBeGreaterThanOrEqual(5);
    expect(accepted).toBeLessThanOrEqual(2 * 5);
    expect(burst.filter((reply) => reply.status === 429)).toHaveLength(16 - accepted);
    await new Promise((resolve) => setTimeout(resolve, 200));
    for (const i of [0, 1]) {
      const later = await instances(i).client.join(10);
      expect(later.status).toBe(429);
      expect(later.code).toBe('RATE_LIMITED');
      // The synced counters answer like the plugin's: the limit, the window's rest in seconds.
      const retryAfter = Number(later.headers.get('retry-after'));
      expect(retryAfter).toBeGreaterThan(0);
      expect(retryAfter).toBeLessThanOrEqual(60);
      expect(later.data).toEqual({ limit: 5, retryAfterSeconds: retryAfter });
    }
    // A user alternating between the instances, each request synced before the next: counted
    // once each, shared — an instance judges on the total it read at its own last sync, which
    // misses the other's latest request, so one request more than the limit gets through.
    const replies = [];
    for (let i = 0; i < 8; i++) {
      replies.push(await instances(i).client.join(11));
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(replies.map((reply) => reply.status)).toEqual([201, 201, 201, 201, 201, 201, 429, 429]);
  });
});
