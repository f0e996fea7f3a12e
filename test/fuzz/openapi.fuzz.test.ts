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
    /** @fastify/swagger moves a body schema's `examples[0]` to the media type's `example`. */
    content: Record<
      string,
      { schema: { properties?: Record<string, unknown> }; example?: unknown }
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
/** A show time the catalogue accepts: two months ahead. */
const showAt = () => new Date(Date.now() + 60 * 86_400_000).toISOString();

describeWithPostgres('fuzzing every operation of /openapi.json', () => {
  let db: TestDatabase;
  let server: TestServer;
  let pool: Pool;
  let concert: ConcertFixture;
  /** Operator fixtures, so valid operator requests reach their handlers (not only the guard). */
  const operator = { venueId: 0, concertIds: [] as number[] };
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
    // The documents' own examples: the concert example's categories name the venue example's
    // sections (Floor, A).
    const admin = (path: string, body: unknown) =>
      server.client.call<{ venueId: number; concertId: number }>('POST', `/api/v1/admin${path}`, {
        headers: { authorization: `Bearer ${OPERATOR_KEY}` },
        body,
      });
    const document = (await (await fetch(`${server.url}/openapi.json`)).json()) as {
      paths: Record<string, Record<string, Operation>>;
    };
    const exampleOf = (path: string) =>
      document.paths[path]?.post?.requestBody?.content['application/json']?.example;
    operator.venueId = (await admin('/venues', exampleOf('/api/v1/admin/venues'))).data.venueId;
    const newConcert = async () => {
      const created = await admin('/concerts', {
        ...(exampleOf('/api/v1/admin/concerts') as object),
        venueId: operator.venueId,
        showAt: showAt(),
      });
      expect([created.status, created.code]).toEqual([201, 'SUCCESS']);
      return created.data.concertId;
    };
    // One concert cancelled, so its cancellation job can be read.
    const cancelled = await newConcert();
    expect((await admin(`/concerts/${cancelled}/cancel`, {})).code).toBe('SUCCESS');
    operator.concertIds.push(concert.concertId, await newConcert(), cancelled);
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
    // A parameter's valid values: the fixtures (and the concerts fuzzed operators created so far).
    const validValues = (name: string): string[] => {
      if (name === 'venueId') return [String(operator.venueId)];
      if (name === 'sectionKey') return ['a', 'floor'];
      if (name === 'concertId' && template.startsWith('/api/v1/admin'))
        return operator.concertIds.map(String);
      return [String(concert.concertId)];
    };
    const pathValue = (name: string) =>
      fc
        .oneof(
          // Twice: an operation with two parameters (a venue's section) still gets valid paths.
          fc.constantFrom(...validValues(name)),
          fc.constantFrom(...validValues(name)),
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
        // Three times: most operator requests get past the guard to the schema and the handler.
        name === 'authorization' ? fc.constant(`Bearer ${OPERATOR_KEY}`) : fc.constant(undefined),
        name === 'authorization' ? fc.constant(`Bearer ${OPERATOR_KEY}`) : fc.constant(undefined),
        name === 'authorization' ? fc.constant(`Bearer ${OPERATOR_KEY}`) : fc.constant(undefined),
        fc.constant(undefined),
        hostileNumbers,
        printable,
      );
    const media = operation.requestBody?.content['application/json'];
    const content = media?.schema;
    const example = (media?.example ?? {}) as Record<string, unknown>;
    const fieldNames = Object.keys(content?.properties ?? {});
    const validBody = fc.record({
      seatHoldUuid: fc.uuid({ version: 4 }),
      reservationUuid: fc.uuid({ version: 4 }),
      concertId: fc.constant(concert.concertId),
      seatId: fc.constantFrom(...concert.seatIds),
      amount: fc.integer({ min: 1, max: 10_000 }),
    });
    /** Values an example holds that only the fixtures make valid: the venue, a future show. */
    const fixtureValues: Record<string, unknown> = { venueId: operator.venueId, showAt: showAt() };
    /** The example with the valid values put in: what an operator would send. */
    const validPayload = (valid: Record<string, unknown>) => {
      const picked = new Map<string, unknown>(Object.entries(example));
      // Fields the fuzzer has no valid value for keep the example's (a venue's seat map).
      for (const name of fieldNames)
        if (name in valid) picked.set(name, valid[name]);
        else if (picked.has(name) && name in fixtureValues) picked.set(name, fixtureValues[name]);
      return picked;
    };
    const body = content
      ? fc.oneof(
          validBody.map((valid) => JSON.stringify(Object.fromEntries(validPayload(valid)))),
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
              const picked = validPayload(valid);
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
          ...parameters.filter((p) => p.in === 'path').map((p) => pathValue(p.name)),
          fc.constant(null),
        ),
        headers: fc.tuple(...headerNames.map((name) => headerValue(name)), fc.constant(null)),
        query: fc.oneof(
          fc.constant(''),
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
    /** 2xx answers per operation: the fuzz reached the handler, not only the validators. */
    const succeeded = new Map<string, number>();
    for (const { path, method, operation } of operations) {
      const name = `${method.toUpperCase()} ${path}`;
      succeeded.set(name, 0);
      await fc.assert(
        fc.asyncProperty(requests(method, path, operation, schemes), async (request) => {
          const reply = await send(request);
          sent++;
          if (reply.status >= 200 && reply.status < 300) {
            succeeded.set(name, (succeeded.get(name) ?? 0) + 1);
            // The concerts operators create become path values of the operations after.
            if (name === 'POST /api/v1/admin/concerts')
              operator.concertIds.push(
                (JSON.parse(reply.body) as { data: { concertId: number } }).data.concertId,
              );
          }
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
    // Every operator operation that creates or reads got some 2xx with valid credentials and
    // valid bodies: the fuzz reached its handler. (Actions on things the fuzz cannot make — a
    // dead letter to replay — and changes that may find their target deleted are not held to it.)
    const operatorCalls = [...succeeded].filter(([name]) => name.includes(' /api/v1/admin'));
    console.info(
      `operator operations, 2xx of ${RUNS}: ${operatorCalls.map(([name, n]) => `${name} ${n}`).join('; ')}`,
    );
    // (A cancellation job is read only of the few concerts cancelled: too rare to require.)
    const createsAndReads = operatorCalls.filter(
      ([name]) =>
        (name.startsWith('GET ') && !name.endsWith('/cancel')) ||
        /^POST \/api\/v1\/admin\/(venues|concerts)$/.test(name),
    );
    expect(createsAndReads.length).toBeGreaterThanOrEqual(10);
    expect(createsAndReads.filter(([, n]) => n === 0).map(([name]) => name)).toEqual([]);
    expect(purchases).toBeGreaterThan(0);
    expect((await server.client.call('GET', '/health/ready')).status).toBe(200);
    expect(await invariantViolations(db.pool, { maxActive: LIMIT, queue: server.queue })).toEqual(
      [],
    );
  }, 480_000);
});
