import net from 'node:net';
import { afterAll, expect, it } from 'vitest';
import { describeWithPostgres } from '../support/db.js';
import { openStream } from '../support/sse.js';
import { useTestServer } from '../support/suite.js';

const REQUEST_TIMEOUT_MS = 1_000;
const HEADERS_TIMEOUT_MS = 500;
const KEEP_ALIVE_TIMEOUT_MS = 500;
/** Node checks the timeouts on a timer (a fifth of the header timeout here) and closes an idle
 * keep-alive connection a second after its advertised timeout: the slack a close may take. */
const SLACK_MS = 750;
const KEEP_ALIVE_BUFFER_MS = 1_000;

interface Probe {
  /** Everything the server sent. */
  received: () => string;
  /** Resolves with ms from connecting until the server closed the connection; rejects after `withinMs`. */
  closed: (withinMs: number) => Promise<number>;
  socket: net.Socket;
}

/** Every raw connection of this file, destroyed at the end whatever happened. */
const sockets = new Set<net.Socket>();

/** A raw connection that behaves as `behave` says once connected. */
function connect(url: string, behave: (socket: net.Socket) => void): Promise<Probe> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = net.connect(Number(port), hostname);
    sockets.add(socket);
    let text = '';
    let connectedAt = 0;
    socket.on('data', (chunk: Buffer) => (text += chunk.toString('latin1')));
    // A reset after the answer (the server closing while the client still sends) is a close too.
    socket.on('error', () => undefined);
    const ended = new Promise<number>((done) =>
      socket.once('close', () => done(performance.now() - connectedAt)),
    );
    socket.once('connect', () => {
      connectedAt = performance.now();
      behave(socket);
      resolve({
        socket,
        received: () => text,
        closed: (withinMs) =>
          new Promise<number>((done, fail) => {
            const timer = setTimeout(() => {
              fail(new Error(`still open after ${withinMs} ms; received ${JSON.stringify(text)}`));
              socket.destroy();
            }, withinMs);
            void ended.then((ms) => {
              clearTimeout(timer);
              done(ms);
            });
          }),
      });
    });
    socket.once('error', reject);
  });
}

/** Headers of a JSON POST announcing `length` bytes of body. */
const postHeaders = (length: number) =>
  'POST /api/v1/balance/charge HTTP/1.1\r\nHost: overture\r\nClient-Id: 77\r\n' +
  `Content-Type: application/json\r\nContent-Length: ${length}\r\n\r\n`;

/** Sends one byte of `{"amount":1000}` padding every `everyMs` until the socket closes. */
function trickle(socket: net.Socket, everyMs: number): void {
  const timer = setInterval(() => {
    if (socket.writable) socket.write(' ');
  }, everyMs);
  socket.once('close', () => clearInterval(timer));
}

/**
 * Slow and silent clients are disconnected by the server within REQUEST_TIMEOUT_MS (whole
 * request), HEADERS_TIMEOUT_MS (headers, and a connection that sends nothing) and
 * KEEP_ALIVE_TIMEOUT_MS (idle between requests), while it keeps answering everyone else; long-lived
 * responses (the SSE stream) are not cut by the request timeout, which ends when the request has
 * been received.
 */
describeWithPostgres('request, header and keep-alive timeouts', () => {
  const { server } = useTestServer({
    REQUEST_TIMEOUT_MS: String(REQUEST_TIMEOUT_MS),
    HEADERS_TIMEOUT_MS: String(HEADERS_TIMEOUT_MS),
    KEEP_ALIVE_TIMEOUT_MS: String(KEEP_ALIVE_TIMEOUT_MS),
    SSE_HEARTBEAT_MS: '1000',
  });

  afterAll(() => {
    for (const socket of sockets) socket.destroy();
  });

  it('answers 408 and closes a client that trickles its body or withholds it', async () => {
    const slowBody = await connect(server.url, (socket) => {
      socket.write(postHeaders(200));
      socket.write('{"amount":');
      trickle(socket, 100);
    });
    const noBody = await connect(server.url, (socket) => socket.write(postHeaders(200)));
    for (const probe of [slowBody, noBody]) {
      const ms = await probe.closed(REQUEST_TIMEOUT_MS + SLACK_MS + 1_000);
      expect(ms).toBeGreaterThanOrEqual(REQUEST_TIMEOUT_MS - 50);
      expect(ms).toBeLessThan(REQUEST_TIMEOUT_MS + SLACK_MS);
      expect(probe.received()).toMatch(/^HTTP\/1\.1 408 /);
      const body = JSON.parse(probe.received().split('\r\n\r\n')[1] ?? '') as { code: string };
      expect(body.code).toBe('REQUEST_TIMEOUT');
    }
    // Nothing was charged on behalf of the cut requests.
    expect((await server.client.balance(77)).data.balance).toBe(0);
  });

  it('closes a connection that sends nothing, or only part of its headers, after the header timeout', async () => {
    const silent = await connect(server.url, () => undefined);
    const partial = await connect(server.url, (socket) =>
      socket.write('GET /health/live HTTP/1.1\r\nHost: overture\r\n'),
    );
    const slowHeaders = await connect(server.url, (socket) => {
      socket.write('GET /health/live HTTP/1.1\r\n');
      const timer = setInterval(() => socket.writable && socket.write('X-Slow: 1\r\n'), 100);
      socket.once('close', () => clearInterval(timer));
    });
    for (const probe of [silent, partial, slowHeaders]) {
      const ms = await probe.closed(HEADERS_TIMEOUT_MS + SLACK_MS + 1_000);
      expect(ms).toBeGreaterThanOrEqual(HEADERS_TIMEOUT_MS - 50);
      expect(ms).toBeLessThan(HEADERS_TIMEOUT_MS + SLACK_MS);
    }
  });

  it('closes a keep-alive connection left idle after a reply', async () => {
    let answeredAt = 0;
    const idle = await connect(server.url, (socket) => {
      socket.write('GET /health/live HTTP/1.1\r\nHost: overture\r\n\r\n');
      socket.once('data', () => (answeredAt = performance.now()));
    });
    const bound = KEEP_ALIVE_TIMEOUT_MS + KEEP_ALIVE_BUFFER_MS + SLACK_MS;
    await idle.closed(bound + 1_000);
    const idleMs = performance.now() - answeredAt;
    expect(idle.received()).toMatch(/^HTTP\/1\.1 200 /);
    expect(idleMs).toBeGreaterThanOrEqual(KEEP_ALIVE_TIMEOUT_MS - 50);
    expect(idleMs).toBeLessThan(bound);
  });

  it('keeps serving other clients while 200 slow clients hold connections, and closes them all', async () => {
    const slow = await Promise.all(
      Array.from({ length: 200 }, (_, i) =>
        connect(server.url, (socket) => {
          if (i % 2 === 0) return; // silent
          socket.write(postHeaders(50));
          trickle(socket, 200);
        }),
      ),
    );
    const closing = slow.map((probe) => probe.closed(REQUEST_TIMEOUT_MS + SLACK_MS + 2_000));
    // Meanwhile the server answers at once.
    const started = performance.now();
    const replies = await Promise.all(
      Array.from({ length: 50 }, (_, i) =>
        i % 2 === 0
          ? server.client.call('GET', '/health/live')
          : server.client.call('GET', '/api/v1/reservations/concerts/popular'),
      ),
    );
    expect(replies.map((reply) => reply.status)).toEqual(replies.map(() => 200));
    expect(performance.now() - started).toBeLessThan(REQUEST_TIMEOUT_MS);
    const closedAfter = await Promise.all(closing);
    expect(Math.max(...closedAfter)).toBeLessThan(REQUEST_TIMEOUT_MS + SLACK_MS);
    expect((await server.client.call('GET', '/health/ready')).status).toBe(200);
  });

  it('does not cut a live stream: the request timeout ends once the request is received', async () => {
    const joined = await server.client.join(78);
    expect(joined.status).toBe(201);
    const live = await openStream(`${server.url}/api/v1/queue/token/stream`, {
      'queue-token': joined.data.token,
    });
    expect(live.status).toBe(200);
    // Heartbeats every second: one arriving after twice the request timeout proves the stream
    // outlived it, on a connection that sent nothing since its request.
    const ping = await live.waitFor(
      (block) => block.comment === 'ping' && block.at > 2 * REQUEST_TIMEOUT_MS,
      2 * REQUEST_TIMEOUT_MS + 3_000,
    );
    expect(ping.at).toBeGreaterThan(2 * REQUEST_TIMEOUT_MS);
    live.close();
    await live.ended;
  });
});
