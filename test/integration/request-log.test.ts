import { Writable } from 'node:stream';
import pino from 'pino';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startServer, type RunningServer } from '../../src/server.js';
import { describeWithPostgres } from '../support/db.js';
import { createConcert, type ConcertFixture } from '../support/fixtures.js';
import { testConfig } from '../support/server.js';
import { useTestDatabase } from '../support/suite.js';

interface LogLine {
  level: number;
  msg: string;
  reqId?: string;
  method?: string;
  route?: string;
  path?: string;
  status?: number;
  code?: string;
  user?: number;
  ms?: number;
}

/**
 * The server's own log lines, captured as pino writes them (a stream of JSON lines) at debug, for
 * a server on the PostgreSQL waiting room.
 */
describeWithPostgres('request log', () => {
  const db = useTestDatabase();
  let server: RunningServer;
  let concert: ConcertFixture;
  const lines: LogLine[] = [];

  beforeAll(async () => {
    concert = await createConcert(db.pool, { seats: 2 });
    const stream = new Writable({
      write(chunk: Buffer, _encoding, done) {
        for (const line of chunk.toString().split('\n').filter(Boolean))
          lines.push(JSON.parse(line) as LogLine);
        done();
      },
    });
    server = await startServer(
      testConfig({ DATABASE_URL: db.url, QUEUE_BACKEND: 'postgres' }),
      pino({ level: 'debug' }, stream),
    );
  });
  afterAll(async () => {
    await server?.close();
  });

  /** The request lines of the request that got `response`, once written. */
  async function linesOf(response: Response): Promise<LogLine[]> {
    await response.arrayBuffer();
    const id = response.headers.get('x-request-id');
    const mine = () => lines.filter((line) => line.reqId === id);
    await expect.poll(() => mine().some((line) => line.msg === 'request completed')).toBe(true);
    return mine();
  }

  it('writes one line per request: route pattern, status, envelope code, user and time', async () => {
    const joined = await fetch(`${server.url}/api/v1/queue/token`, {
      method: 'POST',
      headers: { 'client-id': '1001' },
    });
    const join = await linesOf(joined.clone());
    const { token } = ((await joined.json()) as { data: { token: string } }).data;
    expect(join).toEqual([
      expect.objectContaining({
        level: 30,
        msg: 'request completed',
        method: 'POST',
        route: '/api/v1/queue/token',
        status: 201,
        code: 'SUCCESS',
        user: 1001,
      }),
    ]);
    expect(typeof join[0]?.ms).toBe('number');
    // The queue token alone names the user.
    const seats = await linesOf(
      await fetch(`${server.url}/api/v1/reservations/concerts/${concert.concertId}/seats`, {
        headers: { 'queue-token': token },
      }),
    );
    expect(seats).toEqual([
      expect.objectContaining({
        level: 30,
        route: '/api/v1/reservations/concerts/:concertId/seats',
        status: 200,
        code: 'SUCCESS',
        user: 1001,
      }),
    ]);
  });

  it('names the error code of a refusal, and the path (without the query) of an unknown route', async () => {
    const refused = await linesOf(
      await fetch(`${server.url}/api/v1/reservations/concerts/${concert.concertId}/seats`, {
        headers: { 'queue-token': 'not-a-token' },
      }),
    );
    expect(refused).toEqual([
      expect.objectContaining({
        level: 30,
        route: '/api/v1/reservations/concerts/:concertId/seats',
        status: 401,
        code: 'QUEUE_TOKEN_INVALID',
      }),
    ]);
    expect(refused[0]).not.toHaveProperty('user');
    const unknown = await linesOf(await fetch(`${server.url}/nowhere?secret=1`));
    expect(unknown).toEqual([
      expect.objectContaining({ level: 30, path: '/nowhere', status: 404, code: 'NOT_FOUND' }),
    ]);
    expect(JSON.stringify(unknown)).not.toContain('secret');
  });

  it('logs health probes and docs files at debug', async () => {
    for (const path of ['/health/live', '/health/ready', '/docs/static/swagger-ui.css']) {
      const [line, ...more] = await linesOf(await fetch(`${server.url}${path}`));
      expect(more).toEqual([]);
      expect(line, path).toMatchObject({ level: 20, msg: 'request completed', status: 200 });
    }
  });

  it('ends with a "stopped" line once the server has shut down', async () => {
    await server.close();
    expect(lines.at(-1)).toMatchObject({ level: 30, msg: 'stopped' });
  });
});
