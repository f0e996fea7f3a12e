import { randomUUID } from 'node:crypto';
import http, { type IncomingHttpHeaders } from 'node:http';
import net from 'node:net';
import { beforeAll, expect, it } from 'vitest';
import { errorCatalog, type ErrorCode } from '../../src/shared/errors.js';
import { describeWithPostgres } from '../support/db.js';
import { createConcert, setBalance } from '../support/fixtures.js';
import { invariantViolations } from '../support/invariants.js';
import { useTestServer } from '../support/suite.js';

/**
 * Hostile and malformed input on every route: each answers a clear 4xx with a stable code in the
 * `{code, message, data}` envelope (data.field naming the offending input), never a 500, never a
 * crash, never partial state, never internals in the body, always an x-request-id.
 */

interface Envelope {
  code: string;
  message: string;
  data: Record<string, unknown> | null;
}

interface Sent {
  method: string;
  path: string;
  status: number;
  headers: IncomingHttpHeaders;
  text: string;
  json: Envelope | undefined;
}

interface RequestOptions {
  /** A string[] value sends the header once per element (duplicated headers). */
  headers?: Record<string, string | string[]>;
  /** Serialized with JSON.stringify and sent as application/json. */
  body?: unknown;
  /** Sent as is (a Buffer byte for byte); set the content-type yourself. */
  rawBody?: string | Buffer;
  /** Send the body with Transfer-Encoding: chunked (no Content-Length). */
  chunked?: boolean;
}

/** Every reply of this file, audited at the end (request id, envelope, no internals). */
const seen: Sent[] = [];

const UNKNOWN_TOKEN = 'A'.repeat(32);
const MAX_SAFE = Number.MAX_SAFE_INTEGER;

describeWithPostgres('hostile and malformed input on every route', () => {
  const { db, server } = useTestServer();
  let base: URL;
  let concertId: number;
  let seatIds: number[];
  /** User 900: ACTIVE token, a live hold on seatIds[0], balance = the seat price. */
  let token: string;
  const buyer = 900;
  const price = 5_000;
  let snapshot: Record<string, number>;

  const tables = [
    'users',
    'point_transactions',
    'seat_holds',
    'reservations',
    'idempotency_keys',
    'outbox',
  ] as const;

  /** The waiting room on either queue backend. */
  const storedTokens = () => server.queue.snapshot();
  const storedStatus = async (queueToken: string) =>
    (await storedTokens()).find((entry) => entry.token === queueToken)?.status;

  async function counts(): Promise<Record<string, number>> {
    const result: Record<string, number> = {};
    for (const table of tables) {
      const rows = await db.pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${table}`);
      result[table] = rows.rows[0]?.n ?? -1;
    }
    result.queue_tokens = (await storedTokens()).length;
    const balances = await db.pool.query<{ total: string | null }>(
      `SELECT sum(balance)::text AS total FROM users`,
    );
    result.balanceTotal = Number(balances.rows[0]?.total ?? 0);
    return result;
  }

  /** One request over node:http (lets us send duplicate headers, chunked bodies, odd methods). */
  function send(method: string, path: string, options: RequestOptions = {}): Promise<Sent> {
    const headers: Record<string, string | string[]> = { ...options.headers };
    let body: string | Buffer | undefined = options.rawBody;
    if (body === undefined && options.body !== undefined) {
      body = JSON.stringify(options.body);
      headers['content-type'] ??= 'application/json';
    }
    return new Promise<Sent>((resolve, reject) => {
      const request = http.request(
        {
          host: base.hostname,
          port: base.port,
          method,
          path,
          agent: false,
        },
        (response) => {
          const chunks: Buffer[] = [];
          response.on('data', (chunk: Buffer) => chunks.push(chunk));
          response.on('error', reject);
          response.on('end', () => {
            const text = Buffer.concat(chunks).toString('utf8');
            let json: Envelope | undefined;
            try {
              json = JSON.parse(text) as Envelope;
            } catch {
              json = undefined;
            }
            const sent: Sent = {
              method,
              path,
              status: response.statusCode ?? 0,
              headers: response.headers,
              text,
              json,
            };
            seen.push(sent);
            resolve(sent);
          });
        },
      );
      request.on('error', reject);
      for (const [name, value] of Object.entries(headers)) request.setHeader(name, value);
      if (body !== undefined) {
        if (options.chunked) {
          request.setHeader('transfer-encoding', 'chunked');
          // Several chunks, so the server sees a streamed body of unknown length.
          const piece = 4096;
          for (let offset = 0; offset < body.length; offset += piece)
            request.write(body.slice(offset, offset + piece));
        } else {
          request.setHeader('content-length', Buffer.byteLength(body));
          request.write(body);
        }
      }
      request.end();
    });
  }

  /**
   * What is wrong with an error reply, as readable lines (empty when it is exactly as expected).
   * `field`: undefined = not checked, null = data must be null, string = data.field.
   */
  function verdict(reply: Sent, status: number, code: ErrorCode, field?: string | null): string[] {
    const where = `${reply.method} ${reply.path.slice(0, 120)}`;
    const got = `${reply.status} ${reply.text.slice(0, 200)}`;
    const problems: string[] = [];
    if (reply.status !== status) problems.push(`${where}: expected ${status} ${code}, got ${got}`);
    if (!reply.json) {
      problems.push(`${where}: body is not JSON: ${got}`);
      return problems;
    }
    if (reply.json.code !== code) problems.push(`${where}: expected code ${code}, got ${got}`);
    if (typeof reply.json.message !== 'string' || reply.json.message.length === 0)
      problems.push(`${where}: no message: ${got}`);
    if (field === null && reply.json.data !== null)
      problems.push(`${where}: expected data null, got ${got}`);
    if (typeof field === 'string' && reply.json.data?.field !== field)
      problems.push(`${where}: expected data.field ${field}, got ${got}`);
    if (!reply.headers['x-request-id']) problems.push(`${where}: no x-request-id header`);
    return problems;
  }

  const holdPath = (concert: number | string = concertId) =>
    `/api/v1/reservations/concerts/${concert}/seats/hold`;
  const seatsPath = (concert: number | string = concertId) =>
    `/api/v1/reservations/concerts/${concert}/seats`;

  /** A JSON object written by hand, so values can be any JSON text (1e400, 9007199254740993). */
  const rawJson = (fields: Record<string, string | undefined>): string =>
    `{${Object.entries(fields)
      .filter(([, value]) => value !== undefined)
      .map(([key, value]) => `${JSON.stringify(key)}:${value}`)
      .join(',')}}`;

  const holdBody = (overrides: Record<string, string | undefined> = {}) =>
    rawJson({
      seatHoldUuid: JSON.stringify(randomUUID()),
      concertId: String(concertId),
      seatId: String(seatIds[1]),
      ...overrides,
    });
  const payBody = (overrides: Record<string, string | undefined> = {}) =>
    rawJson({
      reservationUuid: JSON.stringify(randomUUID()),
      seatId: String(seatIds[1]),
      ...overrides,
    });
  const chargeBody = (overrides: Record<string, string | undefined> = {}) =>
    rawJson({ amount: '1000', ...overrides });

  const json = { 'content-type': 'application/json' };

  interface BodyRoute {
    name: string;
    method: string;
    path: string;
    headers: Record<string, string>;
    valid: () => string;
  }

  /** The three routes with a JSON body, each with a valid identity. */
  const bodyRoutes = (): BodyRoute[] => [
    {
      name: 'hold',
      method: 'POST',
      path: holdPath(),
      headers: { 'queue-token': token },
      valid: holdBody,
    },
    {
      name: 'pay',
      method: 'POST',
      path: '/api/v1/reservations',
      headers: { 'queue-token': token },
      valid: payBody,
    },
    {
      name: 'charge',
      method: 'POST',
      path: '/api/v1/balance/charge',
      headers: { 'client-id': '901' },
      valid: chargeBody,
    },
  ];

  /** Every route that needs a Queue-Token, with a valid body where it takes one. */
  const tokenRoutes = () => [
    { method: 'GET', path: '/api/v1/queue/token' },
    { method: 'DELETE', path: '/api/v1/queue/token' },
    { method: 'GET', path: '/api/v1/reservations/concerts' },
    { method: 'GET', path: seatsPath() },
    { method: 'POST', path: holdPath(), rawBody: () => holdBody() },
    { method: 'DELETE', path: holdPath() },
    { method: 'POST', path: '/api/v1/reservations', rawBody: () => payBody() },
  ];

  /** Every route identified by Client-Id alone. */
  const clientIdRoutes = () => [
    { method: 'POST', path: '/api/v1/queue/token' },
    { method: 'GET', path: '/api/v1/balance' },
    { method: 'GET', path: '/api/v1/reservations' },
    { method: 'POST', path: '/api/v1/balance/charge', rawBody: () => chargeBody() },
  ];

  const withBody = (rawBody: (() => string) | undefined, headers: Record<string, string>) =>
    rawBody ? { rawBody: rawBody(), headers: { ...json, ...headers } } : { headers };

  beforeAll(async () => {
    base = new URL(server.url);
    const concert = await createConcert(db.pool, { seats: 5, price });
    concertId = concert.concertId;
    seatIds = concert.seatIds;
    token = await server.client.activeToken(buyer);
    const held = await server.client.hold(token, concertId, seatIds[0]!);
    expect(held.status).toBe(201);
    await setBalance(db.pool, buyer, price);
    snapshot = await counts();
  });

  it('refuses bodies that are not valid JSON with INVALID_REQUEST naming the body', async () => {
    const bad = [
      '{',
      '{"amount": 5,}',
      "{'amount': 5}",
      '{"amount": NaN}',
      '{"amount": 0x10}',
      'undefined',
      '   ',
      '\u0000',
      '{"a":1}{"b":2}',
    ];
    const problems: string[] = [];
    const routes: Pick<BodyRoute, 'method' | 'path' | 'headers'>[] = [
      ...bodyRoutes(),
      { method: 'POST', path: '/api/v1/queue/token', headers: { 'client-id': '902' } },
      { method: 'DELETE', path: '/api/v1/queue/token', headers: { 'queue-token': token } },
      { method: 'DELETE', path: holdPath(), headers: { 'queue-token': token } },
    ];
    for (const route of routes) {
      for (const rawBody of bad) {
        const reply = await send(route.method, route.path, {
          headers: { ...json, ...route.headers },
          rawBody,
        });
        problems.push(...verdict(reply, 400, 'INVALID_REQUEST', 'body'));
      }
    }
    expect(problems).toEqual([]);
  });

  it('refuses an empty JSON body and JSON that is not an object', async () => {
    const problems: string[] = [];
    for (const route of bodyRoutes()) {
      const empty = await send(route.method, route.path, {
        headers: { ...json, ...route.headers },
        rawBody: '',
      });
      problems.push(...verdict(empty, 400, 'INVALID_REQUEST', 'body'));
      for (const rawBody of ['null', '[]', '"text"', '5', 'true', '[{"amount":5}]']) {
        const reply = await send(route.method, route.path, {
          headers: { ...json, ...route.headers },
          rawBody,
        });
        problems.push(...verdict(reply, 400, 'INVALID_REQUEST', 'body'));
      }
    }
    expect(problems).toEqual([]);
  });

  it('refuses prototype-poisoning JSON', async () => {
    const problems: string[] = [];
    for (const route of bodyRoutes()) {
      for (const rawBody of [
        '{"__proto__":{"admin":true},"amount":5}',
        '{"constructor":{"prototype":{"admin":true}},"amount":5}',
      ]) {
        const reply = await send(route.method, route.path, {
          headers: { ...json, ...route.headers },
          rawBody,
        });
        problems.push(...verdict(reply, 400, 'INVALID_REQUEST', 'body'));
      }
    }
    expect(problems).toEqual([]);
    expect(({} as Record<string, unknown>).admin).toBeUndefined();
  });

  it('answers 415 UNSUPPORTED_MEDIA_TYPE to bodies that are not JSON (form, xml, none declared)', async () => {
    const problems: string[] = [];
    for (const route of bodyRoutes()) {
      for (const contentType of [
        'application/x-www-form-urlencoded',
        'application/xml',
        'multipart/form-data; boundary=x',
        'application/octet-stream',
      ]) {
        const reply = await send(route.method, route.path, {
          headers: { ...route.headers, 'content-type': contentType },
          rawBody: route.valid(),
        });
        problems.push(...verdict(reply, 415, 'UNSUPPORTED_MEDIA_TYPE', 'Content-Type'));
      }
      // A body with no Content-Type at all.
      const bare = await send(route.method, route.path, {
        headers: route.headers,
        rawBody: route.valid(),
      });
      problems.push(...verdict(bare, 415, 'UNSUPPORTED_MEDIA_TYPE', 'Content-Type'));
    }
    expect(problems).toEqual([]);
  });

  it('answers 415 UNSUPPORTED_MEDIA_TYPE to a body sent as text/plain', async () => {
    const problems: string[] = [];
    for (const route of [
      ...bodyRoutes(),
      {
        method: 'POST',
        path: '/api/v1/queue/token',
        headers: { 'client-id': '903' },
        valid: () => '{}',
      },
    ]) {
      const reply = await send(route.method, route.path, {
        headers: { ...route.headers, 'content-type': 'text/plain' },
        rawBody: route.valid(),
      });
      problems.push(...verdict(reply, 415, 'UNSUPPORTED_MEDIA_TYPE', 'Content-Type'));
    }
    // Nothing was done on behalf of a refused request.
    if ((await server.queue.tokenCount(903)) !== 0)
      problems.push('user 903 joined the queue with a text/plain body');
    expect(problems).toEqual([]);
  });

  it('answers 415 UNSUPPORTED_MEDIA_TYPE to JSON declared in any charset but UTF-8', async () => {
    // The body is decoded as UTF-8 whatever the header says: a UTF-16 body would be read as
    // garbage and a Latin-1 one silently misread, so both are refused before parsing.
    const problems: string[] = [];
    for (const route of bodyRoutes()) {
      const text = route.valid();
      const bodies: [string, Buffer][] = [
        ['application/json; charset=utf-16', Buffer.from(`\ufeff${text}`, 'utf16le')],
        ['application/json; charset=UTF-16LE', Buffer.from(text, 'utf16le')],
        ['application/json; charset="utf-16"', Buffer.from(`\ufeff${text}`, 'utf16le')],
        // ASCII bytes that would parse as they are: refused for what they claim to be.
        ['application/json; charset=iso-8859-1', Buffer.from(text, 'latin1')],
        ['application/json; charset=latin1', Buffer.from(text, 'latin1')],
        ['application/json;charset=us-ascii', Buffer.from(text, 'latin1')],
        ['application/json; charset=', Buffer.from(text)],
      ];
      for (const [contentType, rawBody] of bodies) {
        const reply = await send(route.method, route.path, {
          headers: { ...route.headers, 'content-type': contentType },
          rawBody,
        });
        problems.push(...verdict(reply, 415, 'UNSUPPORTED_MEDIA_TYPE', 'Content-Type'));
      }
    }
    expect(problems).toEqual([]);
    // UTF-8, however it is spelled, is parsed: this body reaches validation (amount 0 → 400).
    for (const contentType of [
      'application/json; charset=utf-8',
      'application/json;charset=UTF-8',
      'application/json; charset="utf-8"',
      'application/json; charset=utf8',
    ]) {
      const reply = await send('POST', '/api/v1/balance/charge', {
        headers: { 'client-id': '911', 'content-type': contentType },
        rawBody: chargeBody({ amount: '0' }),
      });
      expect(verdict(reply, 400, 'INVALID_REQUEST', 'amount'), contentType).toEqual([]);
    }
  });

  it('answers 413 PAYLOAD_TOO_LARGE above BODY_LIMIT_BYTES, with or without Content-Length', async () => {
    const limit = server.container.config.BODY_LIMIT_BYTES;
    const padding = 'x'.repeat(limit + 100);
    const problems: string[] = [];
    for (const route of [
      ...bodyRoutes(),
      { method: 'POST', path: '/api/v1/queue/token', headers: { 'client-id': '904' } },
    ]) {
      for (const chunked of [false, true]) {
        const reply = await send(route.method, route.path, {
          headers: { ...json, ...route.headers },
          rawBody: rawJson({ amount: '1000', padding: JSON.stringify(padding) }),
          chunked,
        });
        problems.push(...verdict(reply, 413, 'PAYLOAD_TOO_LARGE', 'body'));
      }
    }
    expect(problems).toEqual([]);
    expect(await server.queue.tokenCount(904)).toBe(0);
  });

  it('refuses wrong types, floats, non-positive and huge numbers, naming the field', async () => {
    const numbers = [
      '"5000"',
      '"7"',
      '5.5',
      '0.1',
      '0',
      '-0',
      '-1',
      '-9007199254740991',
      '1e20',
      String(2 ** 53),
      '9007199254740993', // MAX_SAFE_INTEGER + 2, written literally
      '1e400',
      '-1e400',
      'true',
      'null',
      '[1]',
      '{}',
    ];
    const problems: string[] = [];
    const maxCharge = server.container.config.MAX_CHARGE_AMOUNT;
    for (const value of [...numbers, String(maxCharge + 1)]) {
      const reply = await send('POST', '/api/v1/balance/charge', {
        headers: { ...json, 'client-id': '905' },
        rawBody: chargeBody({ amount: value }),
      });
      problems.push(...verdict(reply, 400, 'INVALID_REQUEST', 'amount'));
    }
    for (const field of ['concertId', 'seatId']) {
      for (const value of numbers) {
        const reply = await send('POST', holdPath(), {
          headers: { ...json, 'queue-token': token },
          rawBody: holdBody({ [field]: value }),
        });
        problems.push(...verdict(reply, 400, 'INVALID_REQUEST', field));
      }
    }
    for (const value of numbers) {
      const reply = await send('POST', '/api/v1/reservations', {
        headers: { ...json, 'queue-token': token },
        rawBody: payBody({ seatId: value }),
      });
      problems.push(...verdict(reply, 400, 'INVALID_REQUEST', 'seatId'));
    }
    expect(problems).toEqual([]);
  });

  it('refuses seatHoldUuid and reservationUuid that are not UUID strings', async () => {
    const uuid = randomUUID();
    const values = [
      '5',
      'null',
      'true',
      '""',
      '"not-a-uuid"',
      JSON.stringify(uuid.replaceAll('-', '')),
      JSON.stringify(`{${uuid}}`),
      JSON.stringify(`${uuid}x`),
      JSON.stringify(` ${uuid}`),
      JSON.stringify(`${uuid}'; DROP TABLE seats; --`),
      JSON.stringify([uuid]),
      JSON.stringify({ uuid }),
      JSON.stringify('g'.repeat(8) + uuid.slice(8)),
    ];
    const problems: string[] = [];
    for (const value of values) {
      const hold = await send('POST', holdPath(), {
        headers: { ...json, 'queue-token': token },
        rawBody: holdBody({ seatHoldUuid: value }),
      });
      problems.push(...verdict(hold, 400, 'INVALID_REQUEST', 'seatHoldUuid'));
      const pay = await send('POST', '/api/v1/reservations', {
        headers: { ...json, 'queue-token': token },
        rawBody: payBody({ reservationUuid: value }),
      });
      problems.push(...verdict(pay, 400, 'INVALID_REQUEST', 'reservationUuid'));
    }
    expect(problems).toEqual([]);
  });

  it('refuses unknown extra fields, naming the field', async () => {
    const problems: string[] = [];
    for (const route of bodyRoutes()) {
      for (const extra of ['userId', 'price', 'balance', 'isAdmin', 'seatHoldUuid2']) {
        const body = JSON.parse(route.valid()) as Record<string, unknown>;
        body[extra] = 1;
        const reply = await send(route.method, route.path, {
          headers: { ...json, ...route.headers },
          rawBody: JSON.stringify(body),
        });
        problems.push(...verdict(reply, 400, 'INVALID_REQUEST', extra));
        if (reply.json && !reply.json.message.includes(extra))
          problems.push(`${route.name}: message does not name ${extra}: ${reply.json.message}`);
      }
    }
    expect(problems).toEqual([]);
  });

  it('refuses missing required fields, naming the field', async () => {
    const problems: string[] = [];
    for (const route of bodyRoutes()) {
      const body = JSON.parse(route.valid()) as Record<string, unknown>;
      for (const field of Object.keys(body)) {
        const rest = Object.fromEntries(Object.entries(body).filter(([key]) => key !== field));
        const reply = await send(route.method, route.path, {
          headers: { ...json, ...route.headers },
          rawBody: JSON.stringify(rest),
        });
        problems.push(...verdict(reply, 400, 'INVALID_REQUEST', field));
      }
      const empty = await send(route.method, route.path, {
        headers: { ...json, ...route.headers },
        rawBody: '{}',
      });
      problems.push(...verdict(empty, 400, 'INVALID_REQUEST'));
    }
    expect(problems).toEqual([]);
  });

  it('refuses a hold whose body concertId differs from the path concertId', async () => {
    const other = await createConcert(db.pool, { seats: 1, price });
    const problems: string[] = [];
    for (const [path, body] of [
      [holdPath(), holdBody({ concertId: String(other.concertId) })],
      [holdPath(other.concertId), holdBody({ seatId: String(other.seatIds[0]) })],
      [holdPath(), holdBody({ concertId: String(concertId + 1_000_000) })],
    ] as const) {
      const reply = await send('POST', path, {
        headers: { ...json, 'queue-token': token },
        rawBody: body,
      });
      problems.push(...verdict(reply, 400, 'INVALID_REQUEST', 'concertId'));
    }
    expect(problems).toEqual([]);
    const held = await db.pool.query(`SELECT 1 FROM seat_holds WHERE seat_id = $1`, [
      other.seatIds[0],
    ]);
    expect(held.rowCount).toBe(0);
  });

  it('refuses malformed path ids with INVALID_REQUEST naming concertId', async () => {
    const ids = [
      'abc',
      '0',
      '-1',
      '1.5',
      '99999999999999999999',
      String(2 ** 53),
      '9007199254740993',
      'null',
      'true',
      '%20',
      '1%2C2',
      "1'%20OR%20'1'='1",
      '-0',
    ];
    const problems: string[] = [];
    for (const id of ids) {
      const routes = [
        { method: 'GET', path: seatsPath(id) },
        { method: 'POST', path: holdPath(id), rawBody: holdBody() },
        { method: 'DELETE', path: holdPath(id) },
      ];
      for (const route of routes) {
        const reply = await send(route.method, route.path, {
          headers: route.rawBody ? { ...json, 'queue-token': token } : { 'queue-token': token },
          ...(route.rawBody ? { rawBody: route.rawBody } : {}),
        });
        problems.push(...verdict(reply, 400, 'INVALID_REQUEST', 'concertId'));
      }
    }
    expect(problems).toEqual([]);
  });

  it('refuses path ids spelled in hex, exponent or signed form instead of aliasing another concert', async () => {
    // Client-Id refuses "1e3"; a path id must be as strict, or /concerts/0x1f/seats and
    // /concerts/31/seats name the same concert.
    const spellings = [`0x${concertId.toString(16)}`, `${concertId}e0`, `+${concertId}`];
    const problems: string[] = [];
    for (const id of spellings) {
      // GET only: an aliased DELETE would release the buyer's real hold.
      const reply = await send('GET', seatsPath(id), { headers: { 'queue-token': token } });
      problems.push(...verdict(reply, 400, 'INVALID_REQUEST', 'concertId'));
    }
    for (const limit of ['1e1', '0x0A', '+5']) {
      const reply = await send('GET', `/api/v1/reservations?limit=${limit}`, {
        headers: { 'client-id': '906' },
      });
      problems.push(...verdict(reply, 400, 'INVALID_REQUEST', 'limit'));
    }
    expect(problems).toEqual([]);
  });

  it('refuses path and query integers written with leading zeros, naming the field', async () => {
    // /concerts/00031/seats and /concerts/31/seats must not both name concert 31: one spelling
    // per number, as Client-Id already requires ("01" is refused there).
    const problems: string[] = [];
    for (const id of [`0${concertId}`, `00${concertId}`, `0000${concertId}`, '00', '-01']) {
      // GET only: an aliased DELETE or hold would change the buyer's real hold.
      const reply = await send('GET', seatsPath(id), { headers: { 'queue-token': token } });
      problems.push(...verdict(reply, 400, 'INVALID_REQUEST', 'concertId'));
      if (reply.json && !reply.json.message.includes('concertId'))
        problems.push(`message does not name concertId: ${reply.json.message}`);
    }
    for (const limit of ['05', '007', '00', '0100']) {
      const reply = await send('GET', `/api/v1/reservations?limit=${limit}`, {
        headers: { 'client-id': '906' },
      });
      problems.push(...verdict(reply, 400, 'INVALID_REQUEST', 'limit'));
    }
    expect(problems).toEqual([]);
    // The plain spelling still works.
    const plain = await send('GET', seatsPath(concertId), { headers: { 'queue-token': token } });
    expect([plain.status, plain.json?.code]).toEqual([200, 'SUCCESS']);
  });

  it('answers ids that are valid but unknown with 404, not 500 (they reach the database)', async () => {
    const headers = { 'queue-token': token };
    const problems: string[] = [];
    problems.push(
      ...verdict(
        await send('GET', seatsPath(MAX_SAFE), { headers }),
        404,
        'CONCERT_NOT_FOUND',
        'concertId',
      ),
      ...verdict(
        await send('POST', holdPath(MAX_SAFE), {
          headers: { ...headers, ...json },
          rawBody: holdBody({ concertId: String(MAX_SAFE) }),
        }),
        404,
        'CONCERT_NOT_FOUND',
        'concertId',
      ),
      ...verdict(
        await send('POST', holdPath(), {
          headers: { ...headers, ...json },
          rawBody: holdBody({ seatId: String(MAX_SAFE) }),
        }),
        404,
        'SEAT_NOT_FOUND',
        'seatId',
      ),
      ...verdict(
        await send('POST', '/api/v1/reservations', {
          headers: { ...headers, ...json },
          rawBody: payBody({ seatId: String(MAX_SAFE) }),
        }),
        404,
        'SEAT_NOT_FOUND',
        'seatId',
      ),
      ...verdict(
        await send('DELETE', holdPath(MAX_SAFE), { headers }),
        404,
        'HOLD_NOT_FOUND',
        'concertId',
      ),
    );
    expect(problems).toEqual([]);
  });

  it('refuses an out-of-range, malformed, repeated or unknown querystring on GET /api/v1/reservations', async () => {
    const problems: string[] = [];
    for (const query of [
      'limit=0',
      'limit=101',
      'limit=-1',
      'limit=1.5',
      'limit=abc',
      'limit=',
      'limit=99999999999999999999',
      'limit=1e400',
      'limit=%zz',
      'limit=5%00',
      'limit=1&limit=2',
    ]) {
      const reply = await send('GET', `/api/v1/reservations?${query}`, {
        headers: { 'client-id': '907' },
      });
      problems.push(...verdict(reply, 400, 'INVALID_REQUEST', 'limit'));
    }
    for (const unknown of ['offset', 'userId', 'sort', 'limit[]']) {
      const reply = await send('GET', `/api/v1/reservations?limit=5&${unknown}=1`, {
        headers: { 'client-id': '907' },
      });
      problems.push(...verdict(reply, 400, 'INVALID_REQUEST', unknown));
    }
    expect(problems).toEqual([]);
    // The edges of the range are accepted.
    for (const limit of [1, 100]) {
      const reply = await send('GET', `/api/v1/reservations?limit=${limit}`, {
        headers: { 'client-id': '908' },
      });
      expect([reply.status, reply.json?.code]).toEqual([200, 'SUCCESS']);
    }
  });

  it('answers a missing Client-Id with 401 CLIENT_ID_REQUIRED on every Client-Id route', async () => {
    const problems: string[] = [];
    for (const route of clientIdRoutes()) {
      const reply = await send(route.method, route.path, withBody(route.rawBody, {}));
      problems.push(...verdict(reply, 401, 'CLIENT_ID_REQUIRED', 'Client-Id'));
    }
    expect(problems).toEqual([]);
  });

  it('answers a malformed or duplicated Client-Id with 400 CLIENT_ID_INVALID on every route that reads it', async () => {
    const malformed = [
      '0',
      '-1',
      '01',
      '1e3',
      '9007199254740992',
      '12345678901234567',
      '99999999999999999999',
      'abc',
      '1.5',
      '+1',
      '0x1',
      '1 2',
      '1,2',
      '',
      "1' OR '1'='1",
    ];
    const problems: string[] = [];
    for (const route of clientIdRoutes()) {
      for (const value of [...malformed, ['5', '6'], ['5', '5']]) {
        const hostile = await send(route.method, route.path, {
          ...withBody(route.rawBody, {}),
          headers: { ...(route.rawBody ? json : {}), 'client-id': value },
        });
        problems.push(...verdict(hostile, 400, 'CLIENT_ID_INVALID', 'Client-Id'));
      }
    }
    // Routes behind the queue take an optional Client-Id; a malformed one is refused before use.
    for (const route of tokenRoutes()) {
      for (const value of ['0', '01', '1e3', '9007199254740992', '12345678901234567', ['1', '2']]) {
        const reply = await send(route.method, route.path, {
          ...withBody(route.rawBody, {}),
          headers: {
            ...(route.rawBody ? json : {}),
            'queue-token': token,
            'client-id': value,
          },
        });
        problems.push(...verdict(reply, 400, 'CLIENT_ID_INVALID', 'Client-Id'));
      }
    }
    expect(problems).toEqual([]);
  });

  it('answers a missing, malformed, duplicated or unknown Queue-Token with 401 on every queue route', async () => {
    const problems: string[] = [];
    const malformed = [
      '',
      'short',
      'A'.repeat(31),
      'A'.repeat(33),
      `${'A'.repeat(31)}=`,
      `${'A'.repeat(31)}+`,
      `${'A'.repeat(31)}/`,
      `${'A'.repeat(31)}.`,
      `${'A'.repeat(30)} A`,
      "' OR 1=1 --' OR 1=1 --' OR 1=1 --",
      'x'.repeat(4000),
    ];
    for (const route of tokenRoutes()) {
      const missing = await send(route.method, route.path, withBody(route.rawBody, {}));
      problems.push(...verdict(missing, 401, 'QUEUE_TOKEN_REQUIRED', 'Queue-Token'));
      for (const value of [...malformed, [token, token], [token, UNKNOWN_TOKEN]]) {
        const reply = await send(route.method, route.path, {
          ...withBody(route.rawBody, {}),
          headers: { ...(route.rawBody ? json : {}), 'queue-token': value },
        });
        problems.push(...verdict(reply, 401, 'QUEUE_TOKEN_INVALID', 'Queue-Token'));
      }
      // Well-formed but never issued.
      const unknown = await send(route.method, route.path, {
        ...withBody(route.rawBody, {}),
        headers: { ...(route.rawBody ? json : {}), 'queue-token': UNKNOWN_TOKEN },
      });
      problems.push(...verdict(unknown, 401, 'QUEUE_TOKEN_INVALID', 'Queue-Token'));
    }
    expect(problems).toEqual([]);
  });

  it('refuses a malformed Idempotency-Key header with INVALID_REQUEST naming it', async () => {
    const problems: string[] = [];
    for (const key of ['has space', 'x'.repeat(129), '', 'caf\u00e9', 'tab\there', ['a', 'b']]) {
      const reply = await send('POST', '/api/v1/balance/charge', {
        headers: { ...json, 'client-id': '909', 'idempotency-key': key },
        rawBody: chargeBody(),
      });
      problems.push(...verdict(reply, 400, 'INVALID_REQUEST', 'Idempotency-Key'));
    }
    expect(problems).toEqual([]);
    const charged = await db.pool.query(`SELECT 1 FROM users WHERE id = 909`);
    expect(charged.rowCount).toBe(0);
  });

  it('answers unknown routes and unknown methods with 404 NOT_FOUND in the envelope', async () => {
    const problems: string[] = [];
    // (GET / is the web client: test/api/landing.test.ts.)
    for (const [method, path] of [
      ['POST', '/'],
      ['GET', '/api'],
      ['GET', '/api/v1/nope'],
      ['GET', '/api/v2/balance'],
      ['GET', '/api/v1/balance/'],
      ['GET', '/API/V1/BALANCE'],
      ['GET', '/api/v1//balance'],
      ['GET', `/api/v1/${'a'.repeat(4000)}`],
      ['GET', '/api/v1/reservations/concerts/1/seats/hold'],
      ['GET', '/api/v1/balance/charge'],
      ['POST', '/api/v1/balance'],
      ['PUT', '/api/v1/balance/charge'],
      ['PATCH', '/api/v1/reservations'],
      ['DELETE', '/api/v1/balance'],
      ['DELETE', '/api/v1/reservations'],
      ['PUT', '/api/v1/queue/token'],
      ['OPTIONS', '/api/v1/balance'],
      ['PROPFIND', '/api/v1/balance'],
      ['POST', '/health/live'],
      ['DELETE', '/openapi.json'],
    ] as const) {
      const reply = await send(method, path, { headers: { 'client-id': '910' } });
      problems.push(...verdict(reply, 404, 'NOT_FOUND', null));
    }
    // HEAD has no body, but still a status and a request id.
    const head = await send('HEAD', '/api/v1/nope');
    expect(head.status).toBe(404);
    expect(head.headers['x-request-id']).toBeTruthy();
    expect(problems).toEqual([]);
  });

  it('answers a malformed URL (bad percent-encoding, over-long path id) in the envelope with a request id', async () => {
    const problems: string[] = [];
    for (const path of [
      `/api/v1/reservations/concerts/%zz/seats`,
      `/api/v1/reservations/concerts/%E0%A4%A/seats`,
      `/api/v1/bal%ZZance`,
    ]) {
      const reply = await send('GET', path, { headers: { 'queue-token': token } });
      problems.push(...verdict(reply, 400, 'INVALID_REQUEST'));
    }
    const longId = await send('GET', seatsPath('1'.repeat(101)), {
      headers: { 'queue-token': token },
    });
    // Rejected by the router before the route is known, so the field is the URL itself.
    problems.push(...verdict(longId, 400, 'INVALID_REQUEST', 'url'));
    expect(problems).toEqual([]);
  });

  it('refuses a DELETE carrying a broken body without doing anything', async () => {
    for (const path of ['/api/v1/queue/token', holdPath()]) {
      const reply = await send('DELETE', path, {
        headers: { ...json, 'queue-token': token },
        rawBody: '{"oops"',
      });
      expect(verdict(reply, 400, 'INVALID_REQUEST', 'body')).toEqual([]);
    }
    expect(await storedStatus(token)).toBe('ACTIVE');
    const hold = await db.pool.query(
      `SELECT 1 FROM seat_holds WHERE seat_id = $1 AND user_id = $2 AND status = 'HELD'`,
      [seatIds[0], buyer],
    );
    expect(hold.rowCount).toBe(1);
  });

  it('echoes a well-formed x-request-id and replaces a hostile one', async () => {
    const echoed = await send('GET', '/api/v1/balance', {
      headers: { 'x-request-id': 'trace-42.a:b_c' },
    });
    expect(echoed.headers['x-request-id']).toBe('trace-42.a:b_c');
    for (const hostile of ['has space', 'x'.repeat(65), '<script>', 'a\u00e9', '../../etc']) {
      const reply = await send('GET', '/api/v1/balance', { headers: { 'x-request-id': hostile } });
      const id = reply.headers['x-request-id'];
      expect(id).toMatch(/^[0-9a-f-]{36}$/);
      expect(reply.text).not.toContain(hostile);
    }
  });

  it('survives garbage on the wire and keeps serving', async () => {
    const answer = await new Promise<string>((resolve, reject) => {
      const socket = net.connect(Number(base.port), base.hostname, () => {
        socket.write('GARBAGE \u0001\u0002 NOT-HTTP\r\n\r\n');
      });
      let text = '';
      socket.on('data', (chunk: Buffer) => (text += chunk.toString('latin1')));
      socket.on('end', () => resolve(text));
      socket.on('close', () => resolve(text));
      socket.on('error', reject);
      socket.setTimeout(5_000, () => {
        socket.destroy();
        resolve(text);
      });
    });
    expect(answer).toMatch(/^HTTP\/1\.1 4\d\d /);
    const live = await send('GET', '/health/live');
    expect([live.status, live.json?.code]).toEqual([200, 'SUCCESS']);
  });

  it('gives every reply an x-request-id and every error exactly the envelope, with no internals', () => {
    expect(seen.length).toBeGreaterThan(300);
    const problems: string[] = [];
    // Driver and framework names, stack frames, file positions, SQL.
    const leakWords = /postgres|drizzle|pglite|node_modules|node:internal|\bstack\b|FST_ERR/i;
    const leakShapes =
      /\b(SELECT|INSERT|UPDATE|DELETE FROM|WHERE)\b|\bpg_|\n\s*at\s|(^|[\s"])at\s+\S+\s+\(|\.[cm]?[jt]s:\d+|\b[A-Za-z]*Error:/;
    for (const reply of seen) {
      const where = `${reply.method} ${reply.path.slice(0, 80)} -> ${reply.status}`;
      if (!reply.headers['x-request-id']) problems.push(`${where}: no x-request-id`);
      if (reply.status >= 500) problems.push(`${where}: server error ${reply.text.slice(0, 200)}`);
      if (reply.status < 400 || reply.method === 'HEAD') continue;
      if (!reply.json) {
        problems.push(`${where}: not JSON: ${reply.text.slice(0, 200)}`);
        continue;
      }
      const keys = Object.keys(reply.json).sort();
      if (keys.join() !== 'code,data,message') problems.push(`${where}: keys ${keys.join()}`);
      const entry = (errorCatalog as Record<string, { status: number } | undefined>)[
        reply.json.code
      ];
      if (!entry) problems.push(`${where}: unknown code ${reply.json.code}`);
      else if (entry.status !== reply.status)
        problems.push(`${where}: ${reply.json.code} belongs with ${entry.status}`);
      if (leakWords.test(reply.text) || leakShapes.test(reply.text))
        problems.push(`${where}: leaks internals: ${reply.text}`);
    }
    expect([...new Set(problems)]).toEqual([]);
  });

  it('left no partial state behind: no users, ledger rows, holds, reservations, keys or tokens', async () => {
    const strangers = await db.pool.query<{ user_id: string; table: string }>(
      `SELECT id::text AS user_id, 'users' AS table FROM users WHERE id <> $1
       UNION ALL SELECT user_id::text, 'point_transactions' FROM point_transactions WHERE user_id <> $1
       UNION ALL SELECT user_id::text, 'seat_holds' FROM seat_holds WHERE user_id <> $1
       UNION ALL SELECT user_id::text, 'idempotency_keys' FROM idempotency_keys WHERE user_id <> $1`,
      [buyer],
    );
    const strangerTokens = (await storedTokens())
      .filter((entry) => entry.userId !== buyer)
      .map((entry) => ({ user_id: String(entry.userId), table: 'queue_tokens' }));
    expect([...strangerTokens, ...strangers.rows]).toEqual([]);
    expect(await counts()).toEqual(snapshot);
    expect(await storedStatus(token)).toBe('ACTIVE');
    const holds = await db.pool.query<{ seat_id: string; user_id: string; status: string }>(
      `SELECT seat_id::text, user_id::text, status FROM seat_holds`,
    );
    expect(holds.rows).toEqual([
      { seat_id: String(seatIds[0]), user_id: String(buyer), status: 'HELD' },
    ]);
    const balance = await db.pool.query<{ balance: string }>(
      `SELECT balance::text FROM users WHERE id = $1`,
      [buyer],
    );
    expect(balance.rows[0]?.balance).toBe(String(price));
    expect(await invariantViolations(db.pool, { maxActive: 50, queue: server.queue })).toEqual([]);
  });

  it('refuses a urn:uuid: seatHoldUuid / reservationUuid cleanly (400), leaving hold and balance as they were', async () => {
    // ajv-formats' "uuid" accepts an optional urn:uuid: prefix that PostgreSQL's uuid type does not.
    const before = await counts();
    const urn = `urn:uuid:${randomUUID()}`;
    const hold = await send('POST', holdPath(), {
      headers: { ...json, 'queue-token': token },
      rawBody: holdBody({ seatHoldUuid: JSON.stringify(urn) }),
    });
    const pay = await send('POST', '/api/v1/reservations', {
      headers: { ...json, 'queue-token': token },
      rawBody: payBody({
        reservationUuid: JSON.stringify(`urn:uuid:${randomUUID()}`),
        seatId: String(seatIds[0]),
      }),
    });
    const problems = [
      ...verdict(hold, 400, 'INVALID_REQUEST', 'seatHoldUuid'),
      ...verdict(pay, 400, 'INVALID_REQUEST', 'reservationUuid'),
    ];
    // Whatever the answer, the refused requests changed nothing.
    expect(await counts()).toEqual(before);
    const held = await db.pool.query(
      `SELECT 1 FROM seat_holds WHERE seat_id = $1 AND user_id = $2 AND status = 'HELD'`,
      [seatIds[0], buyer],
    );
    expect(held.rowCount).toBe(1);
    expect(await invariantViolations(db.pool)).toEqual([]);
    expect(problems).toEqual([]);
  });

  it('treats a reservationUuid in another letter case as the same key: never a 500', async () => {
    // PostgreSQL stores uuids in lower case; the idempotency key is the text as sent.
    const { client } = server;
    const user = 920;
    await setBalance(db.pool, user, 2 * price);
    const uuid = randomUUID();

    const first = await client.activeToken(user);
    expect((await client.hold(first, concertId, seatIds[2]!)).status).toBe(201);
    const paid = await client.pay(first, seatIds[2]!, uuid.toUpperCase());
    expect(paid.status).toBe(201);

    // The payment expired the token: queue again, hold another seat, reuse the key in lower case.
    const second = await client.activeToken(user);
    expect((await client.hold(second, concertId, seatIds[3]!)).status).toBe(201);
    const reused = await send('POST', '/api/v1/reservations', {
      headers: { 'queue-token': second },
      body: { reservationUuid: uuid, seatId: seatIds[3] },
    });
    expect(verdict(reused, 422, 'IDEMPOTENCY_KEY_REUSED', 'reservationUuid')).toEqual([]);
    expect((await client.balance(user)).data.balance).toBe(price);
    expect(await invariantViolations(db.pool)).toEqual([]);
  });
});
