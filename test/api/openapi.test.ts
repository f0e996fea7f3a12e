import { beforeAll, expect, it } from 'vitest';
import { errorCatalog, type ErrorCode } from '../../src/shared/errors.js';
import { describeWithPostgres } from '../support/db.js';
import { useTestServer } from '../support/suite.js';

/** The parts of an OpenAPI 3 document these tests read. */
interface MediaType {
  schema?: {
    properties?: { code?: { enum?: string[] } };
    required?: string[];
  } & Record<string, unknown>;
  example?: unknown;
  examples?: Record<string, { value?: unknown }>;
}
interface ResponseObject {
  description?: string;
  content?: Record<string, MediaType>;
}
interface Parameter {
  in: string;
  name: string;
  required?: boolean;
  example?: unknown;
  schema?: Record<string, unknown>;
}
interface Operation {
  summary?: string;
  tags?: string[];
  parameters?: Parameter[];
  requestBody?: {
    required?: boolean;
    content?: Record<string, { schema?: Record<string, unknown> }>;
  };
  responses: Record<string, ResponseObject>;
  security?: Record<string, string[]>[];
}
interface OpenApiDocument {
  openapi: string;
  info: { title: string; version: string };
  paths: Record<string, Record<string, Operation>>;
  components?: { securitySchemes?: Record<string, Record<string, string>> };
}

/** The contract table of MISSION.md plus the routes the service adds. */
const contractOperations = [
  'POST /api/v1/queue/token',
  'GET /api/v1/queue/token',
  'GET /api/v1/reservations/concerts',
  'GET /api/v1/reservations/concerts/{concertId}/seats',
  'POST /api/v1/reservations/concerts/{concertId}/seats/hold',
  'POST /api/v1/reservations',
  'GET /api/v1/balance',
  'POST /api/v1/balance/charge',
  'GET /api/v1/reservations/concerts/popular',
];
const addedOperations = [
  'DELETE /api/v1/queue/token',
  'GET /api/v1/queue/token/stream',
  'DELETE /api/v1/reservations/concerts/{concertId}/seats/hold',
  'GET /api/v1/reservations',
  'GET /health/live',
  'GET /health/ready',
  'GET /api/v1/admin/dead-letters',
  'POST /api/v1/admin/dead-letters/{consumer}/{eventId}/replay',
  'POST /api/v1/admin/venues',
  'GET /api/v1/admin/venues',
  'GET /api/v1/admin/venues/{venueId}',
  'GET /api/v1/admin/venues/{venueId}/sections/{sectionKey}',
  'PATCH /api/v1/admin/venues/{venueId}',
  'GET /api/v1/admin/audit',
  'POST /api/v1/reservations/{reservationId}/cancel',
  'POST /api/v1/admin/reservations/{reservationId}/cancel',
  'GET /api/v1/reservations/concerts/{concertId}/sections',
  'GET /api/v1/reservations/concerts/{concertId}/sections/{sectionKey}/seats',
  'POST /api/v1/admin/concerts',
  'GET /api/v1/admin/concerts',
  'GET /api/v1/admin/concerts/{concertId}',
  'PATCH /api/v1/admin/concerts/{concertId}',
  'DELETE /api/v1/admin/concerts/{concertId}',
  'POST /api/v1/admin/concerts/{concertId}/cancel',
  'GET /api/v1/admin/concerts/{concertId}/cancel',
  'GET /api/v1/admin/concerts/{concertId}/report',
  'POST /api/v1/admin/rooms',
  'GET /api/v1/admin/rooms/{concertId}',
  'PATCH /api/v1/admin/rooms/{concertId}',
  'GET /api/v1/queue/rooms',
  'GET /api/v1/queue/rooms/{concertId}',
  'GET /api/v1/queue/rooms/{concertId}/challenge',
  'GET /api/v1/queue/rooms/{concertId}/draw',
];

/** The operator guard of AUTH_MODE=client-id with an operator key (the server below has one). */
const adminGuard: ErrorCode[] = ['OPERATOR_KEY_REQUIRED', 'OPERATOR_KEY_INVALID'];

const queueGuard: ErrorCode[] = [
  'QUEUE_TOKEN_REQUIRED',
  'QUEUE_TOKEN_INVALID',
  'QUEUE_TOKEN_NOT_ACTIVE',
  'QUEUE_TOKEN_EXPIRED',
  'QUEUE_TOKEN_USER_MISMATCH',
  'CLIENT_ID_INVALID',
];

/**
 * The error codes each operation can really answer with (read from its handler, its schema and
 * the stores it calls); every one must be documented under its status.
 */
const producibleErrors: Record<string, ErrorCode[]> = {
  'POST /api/v1/queue/token': [
    'CLIENT_ID_REQUIRED',
    'CLIENT_ID_INVALID',
    'SERVICE_UNAVAILABLE',
    'INVALID_REQUEST',
    'PAYLOAD_TOO_LARGE',
    'UNSUPPORTED_MEDIA_TYPE',
    'ROOM_NOT_FOUND',
    'ROOM_CLOSED',
    'POW_REQUIRED',
    'POW_INVALID',
    'POW_EXPIRED',
    'POW_WRONG_ROOM',
    'POW_TOO_EASY',
    'POW_UNSOLVED',
    'POW_REUSED',
    'ROOM_NOT_OPEN_YET',
  ],
  'POST /api/v1/admin/rooms': [
    ...adminGuard,
    'INVALID_REQUEST',
    'CONCERT_NOT_FOUND',
    'ROOM_EXISTS',
    'POW_UNAVAILABLE',
    'OPENING_IN_PAST',
    'PRE_QUEUE_NOT_BEFORE_OPENING',
    'PAYLOAD_TOO_LARGE',
    'UNSUPPORTED_MEDIA_TYPE',
  ],
  'GET /api/v1/admin/rooms/{concertId}': [...adminGuard, 'INVALID_REQUEST', 'ROOM_NOT_FOUND'],
  'PATCH /api/v1/admin/rooms/{concertId}': [
    ...adminGuard,
    'INVALID_REQUEST',
    'ROOM_NOT_FOUND',
    'POW_UNAVAILABLE',
    'OPENING_IN_PAST',
    'PRE_QUEUE_NOT_BEFORE_OPENING',
    'ROOM_ALREADY_OPENED',
    'OPENING_CANNOT_BE_CLEARED',
    'PAYLOAD_TOO_LARGE',
  ],
  // Public and rate-limited per address (decision 0064): the one public read that says so.
  'GET /api/v1/queue/rooms': ['INVALID_REQUEST', 'RATE_LIMITED'],
  'GET /api/v1/queue/rooms/{concertId}': ['INVALID_REQUEST', 'ROOM_NOT_FOUND'],
  'GET /api/v1/queue/rooms/{concertId}/challenge': ['INVALID_REQUEST', 'ROOM_NOT_FOUND'],
  'GET /api/v1/queue/rooms/{concertId}/draw': ['INVALID_REQUEST', 'ROOM_NOT_FOUND'],
  'GET /api/v1/queue/token': [
    'QUEUE_TOKEN_REQUIRED',
    'QUEUE_TOKEN_INVALID',
    'QUEUE_TOKEN_USER_MISMATCH',
    'CLIENT_ID_INVALID',
    'SERVICE_UNAVAILABLE',
  ],
  'GET /api/v1/queue/token/stream': [
    'QUEUE_TOKEN_REQUIRED',
    'QUEUE_TOKEN_INVALID',
    'QUEUE_TOKEN_USER_MISMATCH',
    'CLIENT_ID_INVALID',
    'TOO_MANY_STREAMS',
    'SERVICE_UNAVAILABLE',
  ],
  'DELETE /api/v1/queue/token': [
    'QUEUE_TOKEN_REQUIRED',
    'QUEUE_TOKEN_INVALID',
    'QUEUE_TOKEN_USER_MISMATCH',
    'CLIENT_ID_INVALID',
    'SERVICE_UNAVAILABLE',
  ],
  'GET /api/v1/reservations/concerts': [...queueGuard, 'SERVICE_UNAVAILABLE'],
  'GET /api/v1/reservations/concerts/{concertId}/seats': [
    ...queueGuard,
    'INVALID_REQUEST',
    'CONCERT_NOT_FOUND',
  ],
  'POST /api/v1/reservations/concerts/{concertId}/seats/hold': [
    ...queueGuard,
    'QUEUE_TOKEN_WRONG_ROOM',
    'INVALID_REQUEST',
    'CONCERT_NOT_FOUND',
    'SEAT_NOT_FOUND',
    'CONCERT_ENDED',
    'SALE_NOT_OPEN',
    'SALE_CLOSED',
    'CONCERT_CANCELLED',
    'SEAT_ALREADY_HELD',
    'SEAT_ALREADY_RESERVED',
    'TICKET_LIMIT_REACHED',
    'IDEMPOTENCY_KEY_REUSED',
  ],
  'DELETE /api/v1/reservations/concerts/{concertId}/seats/hold': [
    ...queueGuard,
    'QUEUE_TOKEN_WRONG_ROOM',
    'INVALID_REQUEST',
    'HOLD_NOT_FOUND',
  ],
  'POST /api/v1/reservations': [
    ...queueGuard,
    'QUEUE_TOKEN_WRONG_ROOM',
    'INVALID_REQUEST',
    'SEAT_NOT_FOUND',
    'HOLD_REQUIRED',
    'HOLD_EXPIRED',
    'SEAT_ALREADY_RESERVED',
    'SALE_NOT_OPEN',
    'SALE_CLOSED',
    'CONCERT_CANCELLED',
    'INSUFFICIENT_BALANCE',
    'IDEMPOTENCY_KEY_REUSED',
  ],
  'GET /api/v1/reservations': ['CLIENT_ID_REQUIRED', 'CLIENT_ID_INVALID', 'INVALID_REQUEST'],
  'GET /api/v1/balance': ['CLIENT_ID_REQUIRED', 'CLIENT_ID_INVALID', 'SERVICE_UNAVAILABLE'],
  'POST /api/v1/balance/charge': [
    'CLIENT_ID_REQUIRED',
    'CLIENT_ID_INVALID',
    'INVALID_REQUEST',
    'BALANCE_LIMIT_EXCEEDED',
    'IDEMPOTENCY_KEY_REUSED',
  ],
  'GET /api/v1/reservations/concerts/popular': ['SERVICE_UNAVAILABLE'],
  'GET /health/live': [],
  'GET /health/ready': ['SERVICE_UNAVAILABLE'],
  'GET /api/v1/admin/dead-letters': [...adminGuard, 'INVALID_REQUEST'],
  'POST /api/v1/admin/dead-letters/{consumer}/{eventId}/replay': [
    ...adminGuard,
    'INVALID_REQUEST',
    'DEAD_LETTER_NOT_FOUND',
  ],
  'POST /api/v1/admin/venues': [
    ...adminGuard,
    'INVALID_REQUEST',
    'INVALID_SEAT_MAP',
    'PAYLOAD_TOO_LARGE',
    'UNSUPPORTED_MEDIA_TYPE',
  ],
  'GET /api/v1/admin/venues': [...adminGuard, 'INVALID_REQUEST'],
  'GET /api/v1/admin/venues/{venueId}': [...adminGuard, 'INVALID_REQUEST', 'VENUE_NOT_FOUND'],
  'GET /api/v1/admin/venues/{venueId}/sections/{sectionKey}': [
    ...adminGuard,
    'INVALID_REQUEST',
    'VENUE_NOT_FOUND',
    'SECTION_NOT_FOUND',
  ],
  'PATCH /api/v1/admin/venues/{venueId}': [
    ...adminGuard,
    'INVALID_REQUEST',
    'INVALID_SEAT_MAP',
    'VENUE_NOT_FOUND',
    'VENUE_IN_USE',
    'PAYLOAD_TOO_LARGE',
  ],
  'GET /api/v1/admin/audit': [...adminGuard, 'INVALID_REQUEST'],
  'POST /api/v1/reservations/{reservationId}/cancel': [
    'CLIENT_ID_REQUIRED',
    'CLIENT_ID_INVALID',
    'INVALID_REQUEST',
    'RESERVATION_NOT_FOUND',
    'REFUND_CUTOFF_PASSED',
  ],
  'POST /api/v1/admin/reservations/{reservationId}/cancel': [
    ...adminGuard,
    'INVALID_REQUEST',
    'RESERVATION_NOT_FOUND',
  ],
  'GET /api/v1/reservations/concerts/{concertId}/sections': [
    ...queueGuard,
    'INVALID_REQUEST',
    'CONCERT_NOT_FOUND',
  ],
  'GET /api/v1/reservations/concerts/{concertId}/sections/{sectionKey}/seats': [
    ...queueGuard,
    'INVALID_REQUEST',
    'CONCERT_NOT_FOUND',
    'SECTION_NOT_FOUND',
  ],
  'POST /api/v1/admin/concerts': [
    ...adminGuard,
    'INVALID_REQUEST',
    'VENUE_NOT_FOUND',
    'INVALID_PRICE_CATEGORIES',
    'INVALID_SALE_SETTINGS',
    'PAYLOAD_TOO_LARGE',
    'UNSUPPORTED_MEDIA_TYPE',
  ],
  'GET /api/v1/admin/concerts': [...adminGuard, 'INVALID_REQUEST'],
  'GET /api/v1/admin/concerts/{concertId}': [...adminGuard, 'INVALID_REQUEST', 'CONCERT_NOT_FOUND'],
  'GET /api/v1/admin/concerts/{concertId}/report': [
    ...adminGuard,
    'INVALID_REQUEST',
    'CONCERT_NOT_FOUND',
  ],
  'PATCH /api/v1/admin/concerts/{concertId}': [
    ...adminGuard,
    'INVALID_REQUEST',
    'CONCERT_NOT_FOUND',
    'VENUE_NOT_FOUND',
    'INVALID_PRICE_CATEGORIES',
    'INVALID_SALE_SETTINGS',
    'CONCERT_HAS_SALES',
    'CONCERT_CANCELLED',
    'PAYLOAD_TOO_LARGE',
  ],
  'DELETE /api/v1/admin/concerts/{concertId}': [
    ...adminGuard,
    'INVALID_REQUEST',
    'CONCERT_NOT_FOUND',
    'CONCERT_HAS_SALES',
    'CONCERT_CANCELLED',
  ],
  'POST /api/v1/admin/concerts/{concertId}/cancel': [
    ...adminGuard,
    'INVALID_REQUEST',
    'PAYLOAD_TOO_LARGE',
    'UNSUPPORTED_MEDIA_TYPE',
    'CONCERT_NOT_FOUND',
  ],
  'GET /api/v1/admin/concerts/{concertId}/cancel': [
    ...adminGuard,
    'INVALID_REQUEST',
    'SHOW_CANCEL_NOT_FOUND',
  ],
};

const operationsOf = (document: OpenApiDocument): [string, Operation][] =>
  Object.entries(document.paths).flatMap(([path, item]) =>
    Object.entries(item).map(([method, operation]): [string, Operation] => [
      `${method.toUpperCase()} ${path}`,
      operation,
    ]),
  );

/** Examples of a media type, whether written as `example` or as an `examples` map. */
const examplesOf = (media: MediaType | undefined): unknown[] => {
  if (!media) return [];
  if (media.examples) return Object.values(media.examples).map((entry) => entry.value);
  return media.example === undefined ? [] : [media.example];
};

/** `METHOD /path` of every route Fastify serves, from printRoutes' tree. */
function servedRoutes(tree: string): string[] {
  const stack: string[] = [];
  const routes: string[] = [];
  for (const line of tree.split('\n')) {
    const match = /^((?:[│ ] {3})*)[├└]── (.+?)(?: \(([^)]+)\))?$/.exec(line);
    if (!match) continue;
    const depth = (match[1] ?? '').length / 4;
    stack.length = depth;
    const segment = match[2] ?? '';
    const path = stack.join('') + segment;
    stack.push(segment);
    for (const method of (match[3] ?? '').split(', ').filter(Boolean))
      routes.push(`${method} ${path.replace(/:(\w+)/g, '{$1}')}`);
  }
  return routes;
}

describeWithPostgres('OpenAPI document, Swagger UI and health probes', () => {
  const { server } = useTestServer({ OPERATOR_KEY: 'openapi-test-operator-key-0123456789' });
  let document: OpenApiDocument;

  beforeAll(async () => {
    const response = await fetch(`${server.url}/openapi.json`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^application\/json/);
    document = (await response.json()) as OpenApiDocument;
  });

  it('is an OpenAPI 3.x document with a title and version', () => {
    expect(document.openapi).toMatch(/^3\.\d+\.\d+$/);
    expect(document.info.title).toBe('Overture');
    expect(document.info.version).toMatch(/^\d+\.\d+\.\d+/);
  });

  it('lists exactly the contract routes plus the added ones', () => {
    const listed = operationsOf(document)
      .map(([name]) => name)
      .sort();
    expect(listed).toEqual([...contractOperations, ...addedOperations].sort());
  });

  it('lists every route the server serves (besides the docs themselves, the web client’s files and the Prometheus metrics), and nothing it does not', () => {
    const served = servedRoutes(server.app.printRoutes({ commonPrefix: false }))
      .filter((route) => !route.startsWith('HEAD '))
      .filter((route) => !/ \/docs(\/|$)/.test(route) && !route.endsWith(' /openapi.json'))
      .filter((route) => !/^GET \/(operator\/?)?(index\.html|assets\/[\w.-]+)?$/.test(route))
      .filter((route) => route !== 'GET /metrics');
    expect(served.length).toBeGreaterThanOrEqual(14);
    expect([...new Set(served)].sort(), server.app.printRoutes({ commonPrefix: false })).toEqual(
      operationsOf(document)
        .map(([name]) => name)
        .sort(),
    );
    for (const [name] of operationsOf(document)) {
      const [method = '', path = ''] = name.split(' ');
      expect(server.app.hasRoute({ method, url: path.replace(/\{(\w+)\}/g, ':$1') }), name).toBe(
        true,
      );
    }
  });

  it('gives every operation a summary, a tag and a documented success response with an example', () => {
    const problems: string[] = [];
    for (const [name, operation] of operationsOf(document)) {
      if (!operation.summary) problems.push(`${name}: no summary`);
      if (!operation.tags?.length) problems.push(`${name}: no tag`);
      const success = Object.entries(operation.responses).filter(([status]) =>
        /^2\d\d$/.test(status),
      );
      if (success.length === 0) problems.push(`${name}: no 2xx response`);
      for (const [status, response] of success) {
        if (!response.description) problems.push(`${name} ${status}: no description`);
        const media = response.content?.['application/json'];
        const examples = examplesOf(media);
        if (examples.length === 0) problems.push(`${name} ${status}: no example`);
        for (const example of examples)
          if ((example as { code?: unknown } | null)?.code !== 'SUCCESS')
            problems.push(`${name} ${status}: example is not a SUCCESS envelope`);
        const required = media?.schema?.required ?? [];
        if (!['code', 'message', 'data'].every((key) => required.includes(key)))
          problems.push(`${name} ${status}: schema is not the envelope`);
      }
    }
    expect(problems).toEqual([]);
  });

  it('documents every error an operation can produce under its status, with a description and one example per code', () => {
    const problems: string[] = [];
    for (const [name, operation] of operationsOf(document)) {
      const expected = producibleErrors[name];
      if (!expected) {
        problems.push(`${name}: not in the test's table`);
        continue;
      }
      const documented = new Map<string, number>();
      for (const [status, response] of Object.entries(operation.responses)) {
        if (Number(status) < 400) continue;
        const media = response.content?.['application/json'];
        const codes = media?.schema?.properties?.code?.enum ?? [];
        if (!response.description) problems.push(`${name} ${status}: no description`);
        if (codes.length === 0) problems.push(`${name} ${status}: no error codes listed`);
        const examples = examplesOf(media) as { code?: string; message?: unknown }[];
        for (const code of codes) {
          documented.set(code, Number(status));
          const catalog = (errorCatalog as Record<string, { status: number } | undefined>)[code];
          if (catalog?.status !== Number(status))
            problems.push(`${name}: ${code} documented under ${status}`);
          if (!response.description?.includes(code))
            problems.push(`${name} ${status}: description does not explain ${code}`);
          if (!examples.some((example) => example.code === code))
            problems.push(`${name} ${status}: no example for ${code}`);
        }
        for (const example of examples)
          if (!example.code || !codes.includes(example.code) || typeof example.message !== 'string')
            problems.push(`${name} ${status}: bad example ${JSON.stringify(example)}`);
      }
      for (const code of expected) {
        const status = errorCatalog[code].status;
        if (documented.get(code) !== status)
          problems.push(`${name}: can answer ${status} ${code} but does not document it`);
      }
    }
    expect(problems).toEqual([]);
  });

  it('documents 413 PAYLOAD_TOO_LARGE and 415 UNSUPPORTED_MEDIA_TYPE on every operation with a JSON body', () => {
    const withBody = operationsOf(document).filter(([, operation]) => operation.requestBody);
    expect(withBody.map(([name]) => name).sort()).toEqual([
      'PATCH /api/v1/admin/concerts/{concertId}',
      'PATCH /api/v1/admin/rooms/{concertId}',
      'PATCH /api/v1/admin/venues/{venueId}',
      'POST /api/v1/admin/concerts',
      'POST /api/v1/admin/concerts/{concertId}/cancel',
      'POST /api/v1/admin/rooms',
      'POST /api/v1/admin/venues',
      'POST /api/v1/balance/charge',
      'POST /api/v1/queue/token',
      'POST /api/v1/reservations',
      'POST /api/v1/reservations/concerts/{concertId}/seats/hold',
    ]);
    const problems: string[] = [];
    for (const [name, operation] of withBody) {
      for (const [status, code] of [
        ['413', 'PAYLOAD_TOO_LARGE'],
        ['415', 'UNSUPPORTED_MEDIA_TYPE'],
      ] as const) {
        const codes =
          operation.responses[status]?.content?.['application/json']?.schema?.properties?.code
            ?.enum ?? [];
        if (!codes.includes(code)) problems.push(`${name}: ${status} ${code} not documented`);
      }
    }
    expect(problems).toEqual([]);
  });

  it('documents the identity headers as security schemes (for Swagger UI Authorize), path ids and strict bodies', () => {
    const schemes = document.components?.securitySchemes;
    expect(schemes?.clientId).toMatchObject({ type: 'apiKey', in: 'header', name: 'Client-Id' });
    expect(schemes?.queueToken).toMatchObject({
      type: 'apiKey',
      in: 'header',
      name: 'Queue-Token',
    });
    expect(schemes?.operatorKey).toMatchObject({ type: 'http', scheme: 'bearer' });
    expect(schemes?.bearer).toBeUndefined();
    const problems: string[] = [];
    const clientIdRequired = [
      'POST /api/v1/queue/token',
      'GET /api/v1/balance',
      'POST /api/v1/balance/charge',
      'GET /api/v1/reservations',
      'POST /api/v1/reservations/{reservationId}/cancel',
    ];
    const queueTokenRequired = [
      'GET /api/v1/queue/token',
      'GET /api/v1/queue/token/stream',
      'DELETE /api/v1/queue/token',
      'GET /api/v1/reservations/concerts',
      'GET /api/v1/reservations/concerts/{concertId}/seats',
      'POST /api/v1/reservations/concerts/{concertId}/seats/hold',
      'DELETE /api/v1/reservations/concerts/{concertId}/seats/hold',
      'POST /api/v1/reservations',
      'GET /api/v1/reservations/concerts/{concertId}/sections',
      'GET /api/v1/reservations/concerts/{concertId}/sections/{sectionKey}/seats',
    ];
    const adminOnly = [
      'GET /api/v1/admin/dead-letters',
      'POST /api/v1/admin/dead-letters/{consumer}/{eventId}/replay',
      'POST /api/v1/admin/venues',
      'GET /api/v1/admin/venues',
      'GET /api/v1/admin/venues/{venueId}',
      'GET /api/v1/admin/venues/{venueId}/sections/{sectionKey}',
      'PATCH /api/v1/admin/venues/{venueId}',
      'GET /api/v1/admin/audit',
      'POST /api/v1/admin/reservations/{reservationId}/cancel',
      'POST /api/v1/admin/concerts',
      'GET /api/v1/admin/concerts',
      'GET /api/v1/admin/concerts/{concertId}',
      'PATCH /api/v1/admin/concerts/{concertId}',
      'DELETE /api/v1/admin/concerts/{concertId}',
      'POST /api/v1/admin/concerts/{concertId}/cancel',
      'GET /api/v1/admin/concerts/{concertId}/cancel',
      'GET /api/v1/admin/concerts/{concertId}/report',
      'POST /api/v1/admin/rooms',
      'GET /api/v1/admin/rooms/{concertId}',
      'PATCH /api/v1/admin/rooms/{concertId}',
    ];
    for (const [name, operation] of operationsOf(document)) {
      const parameters = operation.parameters ?? [];
      const header = (header: string) =>
        parameters.find((p) => p.in === 'header' && p.name.toLowerCase() === header);
      const security = JSON.stringify(operation.security ?? null);
      if (clientIdRequired.includes(name) && security !== '[{"clientId":[]}]')
        problems.push(`${name}: security ${security}, not Client-Id`);
      if (queueTokenRequired.includes(name) && security !== '[{"queueToken":[]}]')
        problems.push(`${name}: security ${security}, not Queue-Token`);
      if (adminOnly.includes(name) && security !== '[{"operatorKey":[]}]')
        problems.push(`${name}: security ${security}, not the operator key`);
      if (
        ![...clientIdRequired, ...queueTokenRequired, ...adminOnly].includes(name) &&
        operation.security
      )
        problems.push(`${name}: public but has security ${security}`);
      // Carried by the scheme, so Swagger UI does not ask for it twice.
      if (clientIdRequired.includes(name) && header('client-id'))
        problems.push(`${name}: Client-Id also a parameter`);
      if (queueTokenRequired.includes(name) && header('queue-token'))
        problems.push(`${name}: Queue-Token also a parameter`);
      if (queueTokenRequired.includes(name) && header('client-id')?.required !== false)
        problems.push(`${name}: Client-Id (must match the token) not an optional header`);
      // Swagger UI would send a prefilled example beside the authorized user: a mismatch.
      const clientId = header('client-id');
      if (clientId && (clientId.example !== undefined || clientId.schema?.examples !== undefined))
        problems.push(`${name}: optional Client-Id has an example Swagger UI would send`);
      if (name.includes('{concertId}')) {
        const param = parameters.find((p) => p.in === 'path' && p.name === 'concertId');
        if (param?.required !== true || param.schema?.type !== 'integer')
          problems.push(`${name}: concertId not a required integer path parameter`);
        else if (param.schema.minimum !== 1) problems.push(`${name}: concertId minimum not 1`);
      }
      const body = operation.requestBody?.content?.['application/json']?.schema;
      if (operation.requestBody && body?.additionalProperties !== false)
        problems.push(`${name}: body schema allows unknown fields`);
    }
    const limit = document.paths['/api/v1/reservations']?.get?.parameters?.find(
      (p) => p.in === 'query' && p.name === 'limit',
    );
    expect(limit?.schema).toMatchObject({ type: 'integer', minimum: 1, maximum: 100 });
    const idempotencyKey = document.paths['/api/v1/balance/charge']?.post?.parameters?.find(
      (p) => p.in === 'header' && p.name.toLowerCase() === 'idempotency-key',
    );
    expect(idempotencyKey?.required).not.toBe(true);
    const charge = document.paths['/api/v1/balance/charge']?.post?.requestBody?.content?.[
      'application/json'
    ]?.schema as { required?: string[]; properties?: { amount?: Record<string, unknown> } };
    expect(charge.required).toEqual(['amount']);
    expect(charge.properties?.amount).toMatchObject({
      type: 'integer',
      minimum: 1,
      maximum: server.container.config.MAX_CHARGE_AMOUNT,
    });
    expect(problems).toEqual([]);
  });

  it('prefills no fixed idempotency key: a second hold or payment tried from the docs gets a new one', () => {
    for (const [path, field] of [
      ['/api/v1/reservations/concerts/{concertId}/seats/hold', 'seatHoldUuid'],
      ['/api/v1/reservations', 'reservationUuid'],
    ] as const) {
      const body = document.paths[path]?.post?.requestBody?.content?.['application/json']
        ?.schema as { properties?: Record<string, Record<string, unknown>>; examples?: unknown };
      const key = body.properties?.[field];
      // Swagger UI fills a key without an example from its pattern, at random.
      expect(key?.pattern, field).toMatch(/^\^\[0-9a-fA-F\]\{8\}-/);
      expect([key?.example, key?.examples, key?.format, body.examples], field).toEqual([
        undefined,
        undefined,
        undefined,
        undefined,
      ]);
    }
  });

  it('documents one status per success: a replay answers as the first request did', () => {
    for (const [path, method] of [
      ['/api/v1/queue/token', 'post'],
      ['/api/v1/reservations/concerts/{concertId}/seats/hold', 'post'],
      ['/api/v1/reservations', 'post'],
    ] as const) {
      const operation = document.paths[path]?.[method];
      const success = Object.keys(operation?.responses ?? {}).filter((status) => status < '300');
      expect(success, path).toEqual(['201']);
    }
    for (const path of [
      '/api/v1/reservations/concerts/{concertId}/seats/hold',
      '/api/v1/reservations',
    ])
      expect(document.paths[path]?.post?.responses['201']?.description, path).toContain(
        'A replay of the same idempotency key answers the same: this status',
      );
  });

  it('serves the same document at /docs/json for the UI', async () => {
    const response = await fetch(`${server.url}/docs/json`);
    expect(response.status).toBe(200);
    const ui = (await response.json()) as OpenApiDocument;
    expect(Object.keys(ui.paths).sort()).toEqual(Object.keys(document.paths).sort());
    expect(ui.openapi).toBe(document.openapi);
  });

  it('serves Swagger UI HTML at /docs (following redirects)', async () => {
    for (const path of ['/docs', '/docs/']) {
      const response = await fetch(`${server.url}${path}`, { redirect: 'follow' });
      expect(response.status).toBe(200);
      expect(response.headers.get('content-type')).toMatch(/^text\/html/);
      expect(response.headers.get('x-request-id')).toBeTruthy();
      const html = await response.text();
      expect(html).toContain('<div id="swagger-ui">');
      expect(html).toMatch(/<title>\s*Swagger UI\s*<\/title>/);
      const scripts = [...html.matchAll(/<script src="([^"]+)"/g)].map((match) => match[1] ?? '');
      expect(scripts.some((src) => src.includes('swagger-ui-bundle.js'))).toBe(true);
      for (const src of scripts) {
        const asset = await fetch(new URL(src, `${server.url}/docs/`));
        expect(asset.status, src).toBe(200);
        await asset.arrayBuffer();
      }
    }
  });

  it('answers /health/live with 200 in the envelope', async () => {
    const live = await server.client.call<{ status: string }>('GET', '/health/live');
    expect(live.status).toBe(200);
    expect(live.code).toBe('SUCCESS');
    expect(typeof live.message).toBe('string');
    expect(live.data).toEqual({ status: 'live' });
    expect(live.headers.get('x-request-id')).toBeTruthy();
  });

  it('answers /health/ready with 200, the database kind, 0 pending migrations and the outbox lag', async () => {
    const ready = await server.client.call<{
      status: string;
      database: string;
      pendingMigrations: number;
      redis: string;
      outbox: { unsent: number; oldestUnsentSeconds: number };
    }>('GET', '/health/ready');
    expect(ready.status).toBe(200);
    expect(ready.code).toBe('SUCCESS');
    expect(ready.data).toMatchObject({
      status: 'ready',
      database: 'postgres',
      pendingMigrations: 0,
    });
    expect(ready.data.redis).toBe(server.container.redis ? 'ok' : 'not used');
    expect(ready.data.outbox.unsent).toBeGreaterThanOrEqual(0);
    expect(ready.data.outbox.oldestUnsentSeconds).toBeGreaterThanOrEqual(0);
    expect(ready.headers.get('x-request-id')).toBeTruthy();
  });
});
