import { randomUUID } from 'node:crypto';
import fc from 'fast-check';
import { Pool } from 'undici';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createTestDatabase, describeWithPostgres, type TestDatabase } from '../support/db.js';
import { createConcert, setBalance, type ConcertFixture } from '../support/fixtures.js';
import { invariantViolations } from '../support/invariants.js';
import { startTestServer, type TestServer } from '../support/server.js';

/**
 * Property-based fuzzing driven by the server's own OpenAPI document: for every operation,
 * fast-check builds requests from its parameters and body schema — valid values, values from
 * the document's examples, and hostile ones (wrong types, random JSON, garbage text, random
 * headers and path segments) — while genuine buyers keep buying in the background. Properties:
 * no reply is a 5xx or leaves the envelope, and afterwards every invariant holds
 * (ledger sum = balance, one reservation per seat, ACTIVE <= limit).
 */
const RUNS = Number(process.env.FUZZ_RUNS ?? 1500);
/** Every operation gets RUNS requests: more operations, more time (operator routes added five, concerts on venues seven more). */
const LIMIT = 1000;
/** The operator key of the fuzzed server: operator routes are fuzzed past their guard too. */
const OPERATOR_KEY = 'fuzz-operator-key-0123456789abcdefghij';

interface Parameter {
  name: string;
  in: 'path' | 'query' | 'header';
  required?: boolean;
}
interface Operation {
  parameters?: Parameter[];
  security?: Record<string, string[]>[];
  requestBody?: {
    content: Record<
      string,
      { schema: { properties?: Record<string, unknown>; examples?: unknown[] } }
    >;
  };
}
interface SecurityScheme {
  type: string;
  in?: string;
  name?: string;
}
interface FuzzRequest {
  method: string;
  path: string;
  headers: Record<string, string>;
  body?: string;
}

const printable = fc.string({
  unit: fc.constantFrom(...' !"#$%&\'()*+,-./0123456789:;<=>?@ABCZabcz[]^_`{|}~'.split('')),
  maxLength: 40,
});
const hostileNumbers = fc.constantFrom(
  '0',
  '-1',
  '1.5',
  '1e3',
  '0x10',
  '+7',
  '9007199254740993',
  '99999999999999999999',
  '',
  ' ',
  'NaN',
);
const jsonValue = fc.jsonValue({ maxDepth: 3 });

describeWithPostgres('fuzzing every operation of /openapi.json', () => {
  let db: TestDatabase;
  let server: TestServer;
  let pool: Pool;
  let concert: ConcertFixture;
  const tokens: Record<'active' | 'waiting' | 'expired', string> = {
    active: '',
    waiting: '',
    expired: '',
  };

  beforeAll(async () => {
    db = await createTestDatabase();
    server = await startTestServer(db, {
      MAX_ACTIVE: String(LIMIT),
      BODY_LIMIT_BYTES: '4096',
      OPERATOR_KEY,
    });
    pool = new Pool(server.url, { connections: 16 });
    concert = await createConcert(db.pool, { seats: 50, price: 1_000 });
    tokens.active = await server.client.activeToken(1);
    tokens.expired = await server.client.activeToken(2);
    await server.client.leave(tokens.expired);
    await server.queue.requeue(tokens.active);
    tokens.waiting = tokens.active;
    tokens.active = await server.client.activeToken(3);
    await setBalance(db.pool, 3, 100_000);
  });
  afterAll(async () => {
    await pool?.close();
    await server?.close();
    await db?.drop();
  });

  async function send(request: FuzzRequest): Promise<{ status: number; body: string }> {
    const response = await pool.request({
      method: request.method,
      path: request.path,
      headers: request.headers,
      body: request.body,
    });
    return { status: response.statusCode, body: await response.body.text() };
  }

  /** Requests for one operation: every part either valid, from the examples, or hostile. */
  function requests(
    method: string,
    template: string,
    operation: Operation,
    schemes: Record<string, SecurityScheme>,
  ): fc.Arbitrary<FuzzRequest> {
    const parameters = operation.parameters ?? [];
    // Header parameters, and the headers of the operation's security schemes (Client-Id, ...).
    const headerNames = [
      ...parameters.filter((p) => p.in === 'header').map((p) => p.name.toLowerCase()),
      ...new Set(
        (operation.security ?? []).flatMap((requirement) =>
          Object.keys(requirement).map((name) => {
            const scheme = schemes[name];
            return scheme?.type === 'apiKey' ? (scheme.name ?? '') : 'authorization';
          }),
        ),
      ),
    ].map((name) => name.toLowerCase());
    const pathValue = fc
      .oneof(
        fc.constant(String(concert.concertId)),
        fc.integer({ min: 1, max: 10_000 }).map(String),
        hostileNumbers,
        printable,
      )
      .map(encodeURIComponent);
    const headerValue = (name: string) =>
      fc.oneof(
        name === 'queue-token'
          ? fc.constantFrom(tokens.active, tokens.waiting, tokens.expired)
          : fc.constant(undefined),
        name === 'client-id' ? fc.constantFrom('3', '1', '2', '4') : fc.constant(undefined),
        name === 'idempotency-key' ? fc.constant(randomUUID()) : fc.constant(undefined),
        // Twice: most operator requests get past the guard to the schema and the handler.
        name === 'authorization' ? fc.constant(`Bearer ${OPERATOR_KEY}`) : fc.constant(undefined),
        name === 'authorization' ? fc.constant(`Bearer ${OPERATOR_KEY}`) : fc.constant(undefined),
        fc.constant(undefined),
        hostileNumbers,
        printable,
      );
    const content = operation.requestBody?.content['application/json']?.schema;
    const example = (content?.examples?.[0] ?? {}) as Record<string, unknown>;
    const fieldNames = Object.keys(content?.properties ?? {});
    const validBody = fc.record({
      seatHoldUuid: fc.uuid({ version: 4 }),
      reservationUuid: fc.uuid({ version: 4 }),
      concertId: fc.constant(concert.concertId),
      seatId: fc.constantFrom(...concert.seatIds),
      amount: fc.integer({ min: 1, max: 10_000 }),
    });
    const body = content
      ? fc.oneof(
          // Valid fields, possibly one replaced by arbitrary JSON, removed, or an extra one added.
          fc
            .tuple(
              validBody,
              fc.option(fc.constantFrom(...fieldNames)),
              jsonValue,
              fc.boolean(),
              fc.boolean(),
            )
            .map(([valid, field, junk, drop, extra]) => {
              const picked = new Map<string, unknown>(Object.entries(example));
              // Fields the fuzzer has no valid value for keep the example's (a venue's seat map).
              for (const name of fieldNames)
                if (name in valid) picked.set(name, valid[name as keyof typeof valid]);
              if (field !== null) {
                if (drop) picked.delete(field);
                else picked.set(field, junk);
              }
              if (extra) picked.set('unexpected', junk);
              return JSON.stringify(Object.fromEntries(picked));
            }),
          jsonValue.map((value) => JSON.stringify(value)),
          printable,
        )
      : fc.option(
          jsonValue.map((value) => JSON.stringify(value)),
          { nil: undefined },
        );
    const contentType = fc.oneof(
      fc.constant('application/json'),
      fc.constant('application/json'),
      fc.constantFrom(
        'text/plain',
        'application/x-www-form-urlencoded',
        'application/json; charset=latin1',
      ),
      printable,
    );

    return fc
      .record({
        path: fc.tuple(
          ...parameters.filter((p) => p.in === 'path').map(() => pathValue),
          fc.constant(null),
        ),
        headers: fc.tuple(...headerNames.map((name) => headerValue(name)), fc.constant(null)),
        query: fc.oneof(
          fc.constant(''),
          fc.integer({ min: -5, max: 200 }).map((n) => `?limit=${n}`),
          printable.map((text) => `?limit=${encodeURIComponent(text)}`),
          printable.map((text) => `?${encodeURIComponent(text)}=1`),
        ),
        body,
        contentType,
      })
      .map(({ path, headers, query, body: payload, contentType: type }) => {
        const pathParameters = parameters.filter((p) => p.in === 'path');
        let url = template;
        pathParameters.forEach((parameter, index) => {
          url = url.replace(`{${parameter.name}}`, String(path[index]));
        });
        const headerValues: Record<string, string> = {};
        headerNames.forEach((name, index) => {
          const value = headers[index];
          if (typeof value === 'string') headerValues[name] = value;
        });
        if (payload !== undefined) headerValues['content-type'] = type;
        return {
          method: method.toUpperCase(),
          path: `${url}${query}`,
          headers: headerValues,
          body: payload,
        };
      });
  }

  it('never answers 5xx nor leaves the envelope, and every invariant holds afterwards', async () => {
    const document = (await (await fetch(`${server.url}/openapi.json`)).json()) as {
      paths: Record<string, Record<string, Operation>>;
      components?: { securitySchemes?: Record<string, SecurityScheme> };
    };
    const schemes = document.components?.securitySchemes ?? {};
    const operations = Object.entries(document.paths).flatMap(([path, methods]) =>
      Object.entries(methods).map(([method, operation]) => ({ path, method, operation })),
    );
    expect(operations.length).toBeGreaterThanOrEqual(14);

    // Genuine buyers keep buying while the fuzzer runs.
    let buying = true;
    let purchases = 0;
    const buyOne = async (user: number): Promise<void> => {
      const token = await server.client.activeToken(user);
      await setBalance(db.pool, user, 1_000);
      const seats = (
        await server.client.seats(token, concert.concertId)
      ).data.availableSeats.filter((seat) => seat.isAvailable);
      const seat = seats[user % Math.max(seats.length, 1)];
      if (!seat || (await server.client.hold(token, concert.concertId, seat.seatId)).status !== 201)
        return;
      if ((await server.client.pay(token, seat.seatId)).status === 201) purchases++;
    };
    const buyers = (async () => {
      for (let user = 100; buying && user < 100 + concert.seatIds.length; user++)
        await buyOne(user);
    })();

    const failures: string[] = [];
    let sent = 0;
    for (const { path, method, operation } of operations) {
      await fc.assert(
        fc.asyncProperty(requests(method, path, operation, schemes), async (request) => {
          const reply = await send(request);
          sent++;
          let envelope: { code?: unknown; message?: unknown } | undefined;
          try {
            envelope = JSON.parse(reply.body) as typeof envelope;
          } catch {
            envelope = undefined;
          }
          // /docs serves HTML; every API reply is the envelope.
          const isApi = path.startsWith('/api') || path.startsWith('/health');
          if (
            reply.status >= 500 ||
            (isApi && (typeof envelope?.code !== 'string' || typeof envelope.message !== 'string'))
          ) {
            failures.push(
              `${request.method} ${request.path} ${JSON.stringify(request.headers)} ${request.body ?? ''} → ${reply.status} ${reply.body.slice(0, 200)}`,
            );
            return false;
          }
          return true;
        }),
        { numRuns: RUNS, endOnFailure: true },
      );
    }
    buying = false;
    await buyers;

    expect(failures).toEqual([]);
    expect(sent).toBeGreaterThanOrEqual(RUNS * operations.length);
    expect(purchases).toBeGreaterThan(0);
    expect((await server.client.call('GET', '/health/ready')).status).toBe(200);
    expect(await invariantViolations(db.pool, { maxActive: LIMIT, queue: server.queue })).toEqual(
      [],
    );
  }, 480_000);
});
