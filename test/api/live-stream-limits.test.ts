import { afterEach, expect, it } from 'vitest';
import { describeWithPostgres } from '../support/db.js';
import { testQueueBackend } from '../support/queue-backend.js';
import { startTestServer, type Overrides, type TestServer } from '../support/server.js';
import { openStream } from '../support/sse.js';
import { useTestDatabase } from '../support/suite.js';

const STREAM = '/api/v1/queue/token/stream';

type Stream = Awaited<ReturnType<typeof openStream>>;

/**
 * Live streams are capped per user (SSE_MAX_STREAMS_PER_USER) and per client address
 * (SSE_MAX_STREAMS_PER_ADDRESS) on each instance: one more is 429 TOO_MANY_STREAMS, a closed
 * stream gives its place back whoever closed it, and opens count against the rate limits.
 */
describeWithPostgres(`live stream limits (${testQueueBackend()} waiting room)`, () => {
  const db = useTestDatabase();
  const servers: TestServer[] = [];
  const streams: Stream[] = [];
  let nextUser = 1;

  afterEach(async () => {
    for (const live of streams.splice(0)) live.close();
    for (const server of servers.splice(0)) await server.close();
  });

  const start = async (overrides: Overrides = {}) => {
    const server = await startTestServer(db, { MAX_ACTIVE: '1', ...overrides });
    servers.push(server);
    // The first user takes the one slot, so every token below waits (its streams stay open).
    expect((await server.client.join(nextUser++)).status).toBe(201);
    return server;
  };
  const waitingToken = async (server: TestServer) => {
    const entered = await server.client.join(nextUser++);
    expect([entered.status, entered.data.status]).toEqual([201, 'WAITING']);
    return entered.data.token;
  };
  /** Opens a stream; a refused one is read as its JSON reply. */
  const open = async (server: TestServer, token: string) => {
    const live = await openStream(`${server.url}${STREAM}`, { 'queue-token': token });
    streams.push(live);
    if (live.status === 200) {
      await live.waitFor((block) => block.data !== undefined);
      return { status: 200, code: 'STREAM', live };
    }
    await live.ended;
    const body = JSON.parse(live.text()) as { code: string; data: Record<string, unknown> };
    return { status: live.status, code: body.code, data: body.data, live };
  };
  const counts = (server: TestServer) => server.container.streamLimits.counts;

  it('refuses a 4th stream of one user with 429 TOO_MANY_STREAMS; closing one frees a place', async () => {
    const server = await start();
    const token = await waitingToken(server);
    // Truly concurrent: six opens of one token race for three places; exactly three win.
    const opened = await Promise.all(Array.from({ length: 6 }, () => open(server, token)));
    const won = opened.filter((reply) => reply.status === 200);
    const refused = opened.filter((reply) => reply.status === 429);
    expect([won.length, refused.length]).toEqual([3, 3]);
    for (const reply of refused) {
      expect(reply.code).toBe('TOO_MANY_STREAMS');
      expect(reply.data).toMatchObject({ limit: 3, per: 'user' });
    }
    expect(counts(server)).toEqual({ streams: 3, users: 1, addresses: 1 });
    expect(server.container.live.size).toBe(3);

    // The JSON answer (no Accept: text/event-stream) is no stream and is not capped.
    const plain = await server.client.call('GET', STREAM, { headers: { 'queue-token': token } });
    expect([plain.status, plain.code]).toEqual([200, 'SUCCESS']);
    // Another user from the same address is not limited by this one's streams.
    expect((await open(server, await waitingToken(server))).status).toBe(200);

    // The client closes one: its place comes back once the server sees the connection end.
    won[0]!.live.close();
    await expect.poll(() => counts(server).streams, { timeout: 5_000 }).toBe(3);
    expect((await open(server, token)).status).toBe(200);
    expect((await open(server, token)).status).toBe(429);
  });

  it('caps the streams of one client address across users', async () => {
    const server = await start({ SSE_MAX_STREAMS_PER_ADDRESS: '4' });
    const first = await waitingToken(server);
    const second = await waitingToken(server);
    const opened = await Promise.all([
      open(server, first),
      open(server, first),
      open(server, first),
      open(server, second),
      open(server, second),
    ]);
    expect(opened.map((reply) => reply.status).sort()).toEqual([200, 200, 200, 200, 429]);
    const refused = opened.find((reply) => reply.status === 429)!;
    expect(refused.code).toBe('TOO_MANY_STREAMS');
    expect(refused.data).toMatchObject({ limit: 4, per: 'address' });
    expect(counts(server)).toEqual({ streams: 4, users: 2, addresses: 1 });
  });

  it('gives every place back, whoever ends the stream: the client, EXPIRED, or shutdown', async () => {
    const server = await start();
    const tokens = [await waitingToken(server), await waitingToken(server)];
    const [kept, left] = tokens as [string, string];
    const opened = await Promise.all([
      open(server, kept),
      open(server, kept),
      open(server, left),
      open(server, left),
    ]);
    expect(opened.map((reply) => reply.status)).toEqual([200, 200, 200, 200]);
    expect(counts(server)).toEqual({ streams: 4, users: 2, addresses: 1 });

    // The server ends these two: the user leaves, the token is EXPIRED.
    expect((await server.client.leave(left)).status).toBe(200);
    await Promise.all(opened.slice(2).map((reply) => reply.live.ended));
    await expect
      .poll(() => counts(server), { timeout: 5_000 })
      .toEqual({
        streams: 2,
        users: 1,
        addresses: 1,
      });
    // The client closes one; shutdown ends the other.
    opened[0].live.close();
    await expect.poll(() => counts(server).streams, { timeout: 5_000 }).toBe(1);
    await server.close();
    servers.splice(0);
    await opened[1].live.ended;
    expect(counts(server)).toEqual({ streams: 0, users: 0, addresses: 0 });
    expect(server.container.live.size).toBe(0);
  });

  it('counts stream opens against the rate limits', async () => {
    const server = await start({
      RATE_LIMIT_ENABLED: 'true',
      RATE_LIMIT_WINDOW_MS: '60000',
      RATE_LIMIT_QUEUE_MAX: '4',
    });
    const token = await waitingToken(server);
    // Open and close, so the stream cap is never what refuses.
    for (let i = 0; i < 4; i++) {
      const reply = await open(server, token);
      expect(reply.status).toBe(200);
      reply.live.close();
      await expect.poll(() => counts(server).streams, { timeout: 5_000 }).toBe(0);
    }
    const limited = await fetch(`${server.url}${STREAM}`, {
      headers: { accept: 'text/event-stream', 'queue-token': token },
    });
    expect(limited.status).toBe(429);
    expect(((await limited.json()) as { code: string }).code).toBe('RATE_LIMITED');
  });
});
