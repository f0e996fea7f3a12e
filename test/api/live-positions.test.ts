import { afterEach, expect, it } from 'vitest';
import { describeWithPostgres } from '../support/db.js';
import { testQueueBackend } from '../support/queue-backend.js';
import {
  sharedWaitingRoom,
  startTestServer,
  type Overrides,
  type TestServer,
} from '../support/server.js';
import { openStream, type LiveState, type StreamBlock } from '../support/sse.js';
import { useTestDatabase } from '../support/suite.js';

const STREAM = '/api/v1/queue/token/stream';

/** The state an event block carries (undefined for comments). */
const stateOf = (block: StreamBlock): LiveState | undefined =>
  block.data === undefined ? undefined : (JSON.parse(block.data) as LiveState);

/**
 * GET /api/v1/queue/token/stream on the waiting room TEST_QUEUE_BACKEND names: positions fall and
 * ACTIVE arrives without the client polling, reconnects resume, streams end on EXPIRED and at
 * shutdown, and an open stream keeps its WAITING token alive.
 */
describeWithPostgres(`live positions by SSE (${testQueueBackend()} waiting room)`, () => {
  const db = useTestDatabase();
  const servers: TestServer[] = [];
  let nextUser = 1;

  afterEach(async () => {
    for (const server of servers.splice(0)) await server.close();
    await db.pool.query('TRUNCATE queue_tokens');
  });

  const start = async (overrides: Overrides = {}) => {
    const server = await startTestServer(db, { MAX_ACTIVE: '1', ...overrides });
    servers.push(server);
    return server;
  };
  /** Joins users in order; the first takes the one slot (MAX_ACTIVE=1), the rest wait. */
  const line = async (server: TestServer, count: number) => {
    const tokens: string[] = [];
    for (let i = 0; i < count; i++) {
      const entered = await server.client.join(nextUser++);
      expect(entered.status).toBe(201);
      tokens.push(entered.data.token);
    }
    await expect
      .poll(async () => (await server.client.status(tokens[0]!)).data.status)
      .toBe('ACTIVE');
    return tokens;
  };
  const stream = (server: TestServer, token: string, headers: Record<string, string> = {}) =>
    openStream(`${server.url}${STREAM}`, { 'queue-token': token, ...headers });

  it('pushes the falling position and then ACTIVE the moment it happens, without the client polling', async () => {
    // Ticks 10 s apart: every update below comes from a wake-up (a leave, an admission run here).
    // A 6 s rate window: 1 s buckets, so the admissions below make a pace (decision 0058).
    const server = await start({ SSE_INTERVAL_MS: '10000', ADMISSION_RATE_WINDOW_SECONDS: '6' });
    const [first, second, third, fourth, mine] = await line(server, 5);
    // The first admission (at the join) starts the measured span; the next two (below) fall in
    // different buckets after it, so the last WAITING state has a pace.
    await new Promise((resolve) => setTimeout(resolve, 1_100));
    const live = await stream(server, mine!);
    expect(live.status).toBe(200);
    expect(live.headers.get('content-type')).toMatch(/^text\/event-stream/);
    expect(live.headers.get('x-request-id')).toBeTruthy();
    await live.waitFor((block) => block.data !== undefined, 2_000);
    expect(live.states()[0]).toMatchObject({
      status: 'WAITING',
      position: 4,
      ahead: 3,
      concertId: null,
      seatsLeft: null,
    });

    const step = async (leaving: string, expected: { status: string; position: number }) => {
      const from = live.blocks.length;
      const left = performance.now();
      expect((await server.client.leave(leaving)).status).toBe(200);
      const block = await live.waitFor(
        (b) => stateOf(b)?.position === expected.position,
        2_000,
        from,
      );
      expect(stateOf(block)).toMatchObject(expected);
      return performance.now() - left;
    };
    // Someone ahead leaves the line; the ACTIVE user leaves (the next one is admitted), twice; then ours.
    expect(await step(second!, { status: 'WAITING', position: 3 })).toBeLessThan(1_500);
    expect(await step(first!, { status: 'WAITING', position: 2 })).toBeLessThan(1_500);
    await new Promise((resolve) => setTimeout(resolve, 1_100));
    expect(await step(third!, { status: 'WAITING', position: 1 })).toBeLessThan(1_500);
    expect(await step(fourth!, { status: 'ACTIVE', position: 0 })).toBeLessThan(1_500);

    const states = live.states();
    const positions = states
      .map((state) => `${state.status}:${state.position}`)
      .filter((value, i, all) => value !== all[i - 1]);
    expect(positions).toEqual(['WAITING:4', 'WAITING:3', 'WAITING:2', 'WAITING:1', 'ACTIVE:0']);
    const active = states.at(-1)!;
    expect(active.estimatedWaitSeconds).toBe(0);
    expect(Date.parse(active.expiresAt!)).toBeGreaterThan(Date.now());
    // Admissions happened, so a WAITING state carried an estimate from the measured rate.
    const lastWaiting = states.filter((state) => state.status === 'WAITING').at(-1)!;
    expect(lastWaiting.estimatedWaitSeconds).toBeGreaterThan(0);
    // Every event has an id naming its state.
    for (const state of states) expect(state.id).toMatch(/^(WAITING|ACTIVE|EXPIRED)\.\d+\./);
    live.close();
  });

  it('sees a change made on another instance within the tick interval', async () => {
    const room = sharedWaitingRoom();
    try {
      const one = await start({ ...room.overrides });
      const two = await start({ ...room.overrides, SSE_INTERVAL_MS: '200' });
      const [first, mine] = await line(one, 2);
      const live = await stream(two, mine!);
      await live.waitFor((block) => block.data !== undefined);
      expect(live.states()[0]).toMatchObject({ status: 'WAITING', position: 1 });
      const from = live.blocks.length;
      const left = performance.now();
      await one.client.leave(first!);
      await live.waitFor((block) => stateOf(block)?.status === 'ACTIVE', 3_000, from);
      // Instance two learns it from its own tick (200 ms), not from a wake-up on instance one.
      expect(performance.now() - left).toBeLessThan(1_500);
      live.close();
    } finally {
      for (const server of servers.splice(0)) await server.close();
      await room.cleanup();
    }
  });

  it('resumes on reconnect: the current state at once, or nothing new when Last-Event-ID already shows it', async () => {
    const server = await start({ SSE_INTERVAL_MS: '200' });
    const [first, second, mine] = await line(server, 3);
    const live = await stream(server, mine!);
    await live.waitFor((block) => block.data !== undefined);
    live.close();
    await live.ended;

    // Meanwhile the line moved; a plain reconnect gets the current state as its first block.
    await server.client.leave(second!);
    const again = await stream(server, mine!);
    const firstBlock = await again.waitFor(() => true, 1_000);
    expect(stateOf(firstBlock)).toMatchObject({ status: 'WAITING', position: 1 });
    const id = firstBlock.id!;
    again.close();

    // Reconnecting with that id as Last-Event-ID: the client has it; the stream says so in a comment.
    const resumed = await stream(server, mine!, { 'last-event-id': id });
    const opening = await resumed.waitFor(() => true, 1_000);
    expect(opening).toMatchObject({ comment: 'resumed' });
    await new Promise((resolve) => setTimeout(resolve, 600));
    expect(resumed.states()).toEqual([]);
    // …and the next change arrives as usual.
    await server.client.leave(first!);
    await resumed.waitFor((block) => stateOf(block)?.status === 'ACTIVE');
    resumed.close();
  });

  it('ends the stream after EXPIRED; an expired token gets EXPIRED and the end at once', async () => {
    const server = await start({ SSE_INTERVAL_MS: '200' });
    const [token] = await line(server, 1);
    const live = await stream(server, token!);
    await live.waitFor((block) => block.data !== undefined);
    expect(live.states()[0]).toMatchObject({ status: 'ACTIVE', estimatedWaitSeconds: 0 });
    await server.client.leave(token!);
    await live.ended;
    expect(live.states().at(-1)).toMatchObject({
      status: 'EXPIRED',
      position: 0,
      estimatedWaitSeconds: null,
    });

    const late = await stream(server, token!);
    expect(late.status).toBe(200);
    await late.ended;
    expect(late.states()).toHaveLength(1);
    expect(late.states()[0]).toMatchObject({ status: 'EXPIRED' });
  });

  it('sends `: ping` on a quiet stream', async () => {
    const server = await start({ SSE_INTERVAL_MS: '200', SSE_HEARTBEAT_MS: '1000' });
    const [, mine] = await line(server, 2);
    const live = await stream(server, mine!);
    const ping = await live.waitFor((block) => block.comment === 'ping', 3_000);
    expect(ping.at).toBeGreaterThanOrEqual(900);
    live.close();
  });

  it('keeps a WAITING token alive while its stream is open; one without a stream expires', async () => {
    const server = await start({ SSE_INTERVAL_MS: '200', WAITING_TOKEN_IDLE_SECONDS: '2' });
    const [, streamed, unattended] = await line(server, 3);
    const live = await stream(server, streamed!);
    await live.waitFor((block) => block.data !== undefined);
    await new Promise((resolve) => setTimeout(resolve, 3_500));
    const snapshot = await server.queue.snapshot();
    expect(snapshot.find((token) => token.token === unattended)?.status).toBe('EXPIRED');
    expect(snapshot.find((token) => token.token === streamed)?.status).toBe('WAITING');
    expect(live.states().at(-1)).toMatchObject({ status: 'WAITING', position: 1 });
    live.close();
  });

  it('answers one JSON state without Accept: text/event-stream, and JSON errors before any stream', async () => {
    const server = await start();
    const [, mine] = await line(server, 2);
    const plain = await server.client.call<Record<string, unknown>>('GET', STREAM, {
      headers: { 'queue-token': mine! },
    });
    expect(plain.status).toBe(200);
    expect(plain.headers.get('content-type')).toMatch(/^application\/json/);
    expect(plain.data).toMatchObject({ status: 'WAITING', position: 1 });
    expect(Object.keys(plain.data).sort()).toEqual(
      [
        'ahead',
        'concertId',
        'estimatedWaitSeconds',
        'expiresAt',
        'position',
        'seatsLeft',
        'status',
      ].sort(),
    );

    const sse = { accept: 'text/event-stream' };
    const unknown = await server.client.call('GET', STREAM, {
      headers: { ...sse, 'queue-token': 'Q'.repeat(32) },
    });
    expect([unknown.status, unknown.code]).toEqual([401, 'QUEUE_TOKEN_INVALID']);
    const missing = await server.client.call('GET', STREAM, { headers: sse });
    expect([missing.status, missing.code]).toEqual([401, 'QUEUE_TOKEN_REQUIRED']);
    const stranger = await server.client.call('GET', STREAM, {
      headers: { ...sse, 'queue-token': mine!, 'client-id': '999999' },
    });
    expect([stranger.status, stranger.code]).toEqual([403, 'QUEUE_TOKEN_USER_MISMATCH']);
  });

  it('ends open streams on graceful shutdown instead of waiting for them', async () => {
    const server = await startTestServer(db, { MAX_ACTIVE: '1', SHUTDOWN_TIMEOUT_MS: '30000' });
    const tokens = await line(server, 21);
    const streams = await Promise.all(tokens.map((token) => stream(server, token)));
    await Promise.all(streams.map((live) => live.waitFor((block) => block.data !== undefined)));
    expect(server.container.live.size).toBe(21);
    const started = performance.now();
    await server.close();
    expect(performance.now() - started).toBeLessThan(3_000);
    await Promise.all(streams.map((live) => live.ended));
    expect(server.container.live.size).toBe(0);
  });
});
