import pino from 'pino';
import { afterEach, expect, it } from 'vitest';
import { buildApp } from '../../src/app.js';
import { createContainer } from '../../src/container.js';
import { openConfiguredDatabase } from '../../src/db/client.js';
import { describeWithPostgres } from '../support/db.js';
import { startTestServer, testConfig, type TestServer } from '../support/server.js';
import { useTestDatabase } from '../support/suite.js';

/**
 * TRUST_PROXY decides whom the service believes about the client: off, the socket's address (a
 * client's own X-Forwarded-For is ignored); behind a proxy, the address the trusted proxies
 * report. Per-address rate limits and logs use that address.
 */
describeWithPostgres('TRUST_PROXY', () => {
  const db = useTestDatabase();

  it('takes request.ip and request.protocol from X-Forwarded-* only from trusted proxies', async () => {
    const cases: {
      trust: string;
      from: string;
      forwardedFor?: string;
      proto?: string;
      ip: string;
      protocol: string;
    }[] = [
      // Off: whatever the client writes in the headers, the socket decides.
      {
        trust: 'false',
        from: '10.0.0.9',
        forwardedFor: '1.2.3.4',
        proto: 'https',
        ip: '10.0.0.9',
        protocol: 'http',
      },
      // On: the client named by the proxy.
      {
        trust: 'true',
        from: '10.0.0.9',
        forwardedFor: '1.2.3.4',
        proto: 'https',
        ip: '1.2.3.4',
        protocol: 'https',
      },
      // One hop: the address the nearest proxy appended, not what the client wrote before it.
      {
        trust: '1',
        from: '10.0.0.9',
        forwardedFor: '6.6.6.6, 1.2.3.4',
        proto: 'https',
        ip: '1.2.3.4',
        protocol: 'https',
      },
      {
        trust: '2',
        from: '10.0.0.9',
        forwardedFor: '6.6.6.6, 1.2.3.4, 10.0.0.8',
        ip: '1.2.3.4',
        protocol: 'http',
      },
      // A list: only the listed proxies are believed, hop by hop.
      {
        trust: '10.0.0.0/8',
        from: '10.0.0.9',
        forwardedFor: '6.6.6.6, 1.2.3.4, 10.0.0.8',
        proto: 'https',
        ip: '1.2.3.4',
        protocol: 'https',
      },
      {
        trust: '10.0.0.0/8',
        from: '172.16.0.5',
        forwardedFor: '1.2.3.4',
        proto: 'https',
        ip: '172.16.0.5',
        protocol: 'http',
      },
      {
        trust: '10.0.0.9, 10.0.0.8',
        from: '10.0.0.9',
        forwardedFor: '1.2.3.4, 10.0.0.8',
        ip: '1.2.3.4',
        protocol: 'http',
      },
      {
        trust: 'loopback',
        from: '127.0.0.1',
        forwardedFor: '1.2.3.4',
        proto: 'https',
        ip: '1.2.3.4',
        protocol: 'https',
      },
      // Without the header the socket's address stands, trusted or not.
      { trust: 'true', from: '10.0.0.9', ip: '10.0.0.9', protocol: 'http' },
    ];
    const problems: string[] = [];
    for (const expected of cases) {
      const config = testConfig({ DATABASE_URL: db.url, TRUST_PROXY: expected.trust });
      const logger = pino({ level: 'silent' });
      const database = openConfiguredDatabase(config, { logger });
      const { app } = await buildApp({
        container: createContainer(config, database, logger),
        logger,
      });
      app.get('/probe', (request) => ({ ip: request.ip, protocol: request.protocol }));
      try {
        const reply = await app.inject({
          method: 'GET',
          url: '/probe',
          remoteAddress: expected.from,
          headers: {
            ...(expected.forwardedFor ? { 'x-forwarded-for': expected.forwardedFor } : {}),
            ...(expected.proto ? { 'x-forwarded-proto': expected.proto } : {}),
          },
        });
        const seen = reply.json<{ ip: string; protocol: string }>();
        if (seen.ip !== expected.ip || seen.protocol !== expected.protocol)
          problems.push(
            `${JSON.stringify(expected)}: got ip ${seen.ip}, protocol ${seen.protocol}`,
          );
      } finally {
        await app.close();
        await database.close();
      }
    }
    expect(problems).toEqual([]);
  });

  const servers: TestServer[] = [];
  afterEach(async () => {
    for (const server of servers.splice(0)) await server.close();
  });
  const start = async (trust: string) => {
    const server = await startTestServer(db, {
      TRUST_PROXY: trust,
      RATE_LIMIT_ENABLED: 'true',
      RATE_LIMIT_WINDOW_MS: '60000',
      RATE_LIMIT_IP_MAX: '3',
    });
    servers.push(server);
    return server;
  };
  /** Sends `count` requests at once (popular concerts: only the per-address limit applies). */
  const burst = async (server: TestServer, count: number, forwardedFor: (i: number) => string) => {
    const replies = await Promise.all(
      Array.from({ length: count }, (_, i) =>
        server.client.call('GET', '/api/v1/reservations/concerts/popular', {
          headers: { 'x-forwarded-for': forwardedFor(i) },
        }),
      ),
    );
    return replies.map((reply) => reply.status).sort();
  };

  it('gives each client behind a trusted proxy its own per-address budget', async () => {
    // The test client plays the proxy (127.0.0.1) in front of two clients.
    for (const trust of ['true', '1', '127.0.0.1']) {
      const server = await start(trust);
      expect(await burst(server, 5, () => '203.0.113.1'), trust).toEqual([200, 200, 200, 429, 429]);
      // The second client is not limited by the first's traffic.
      expect(await burst(server, 3, () => '203.0.113.2'), trust).toEqual([200, 200, 200]);
      await server.close();
      servers.splice(0);
    }
  });

  it('ignores X-Forwarded-For the client wrote itself: off, spoofed hops, or an untrusted sender', async () => {
    // Off: six made-up addresses from one socket share its budget.
    const off = await start('false');
    expect(await burst(off, 6, (i) => `198.51.100.${i}`)).toEqual([200, 200, 200, 429, 429, 429]);
    // One trusted hop: the client prepends made-up addresses, the proxy appends the real one.
    const oneHop = await start('1');
    expect(await burst(oneHop, 6, (i) => `198.51.100.${i}, 203.0.113.7`)).toEqual([
      200, 200, 200, 429, 429, 429,
    ]);
    // A list that does not name the sender: its header is not believed.
    const elsewhere = await start('10.0.0.0/8');
    expect(await burst(elsewhere, 6, (i) => `198.51.100.${i}`)).toEqual([
      200, 200, 200, 429, 429, 429,
    ]);
  });
});
