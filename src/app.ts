import { randomUUID } from 'node:crypto';
import cors from '@fastify/cors';
import { parse as parseContentType } from 'content-type';
import fastifySSE from '@fastify/sse';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Ajv, type Options as AjvOptions } from 'ajv';
import formatsPlugin from 'ajv-formats';
import Fastify, {
  type FastifyBaseLogger,
  type FastifyError,
  type FastifyReply,
  type FastifyRequest,
  type preValidationHookHandler,
  type RouteOptions,
} from 'fastify';
import type { Duplex } from 'node:stream';
import type { Logger } from 'pino';
import type { TrustProxy } from './config.js';
import type { Container } from './container.js';
import { isDatabaseUnavailable } from './db/sql.js';
import { registerLandingPage } from './landing.js';
import { registerOpenApi } from './openapi.js';
import { registerRateLimits } from './rate-limits/rate-limits.js';
import { decorateRequestLog, requestLog } from './request-log.js';
import { securityHeaders } from './security-headers.js';
import { isRedisUnavailable } from './redis/client.js';
import { registerAdminRoutes } from './modules/admin/admin.routes.js';
import { createAuth } from './modules/auth/auth.js';
import { createGuards } from './modules/auth/guards.js';
import { registerBalanceRoutes } from './modules/balance/balance.routes.js';
import { registerConcertRoutes } from './modules/concerts/concerts.routes.js';
import { registerHealthRoutes } from './modules/health/health.routes.js';
import { registerHoldRoutes } from './modules/holds/holds.routes.js';
import { registerQueueRoutes } from './modules/queue/queue.routes.js';
import { registerReservationRoutes } from './modules/reservations/reservations.routes.js';
import type { App } from './shared/app-types.js';
import { AppError, isAppError } from './shared/errors.js';

const addFormats = formatsPlugin as unknown as (ajv: Ajv) => Ajv;

/**
 * Bodies are validated strictly (JSON has types: "5000" is not an amount, unknown fields are
 * refused); path, query and headers arrive as text and are coerced to the schema's types.
 */
function validators(): { body: Ajv; other: Ajv } {
  const base: AjvOptions = {
    removeAdditional: false,
    useDefaults: true,
    allErrors: false,
    strict: false,
  };
  return {
    body: addFormats(new Ajv({ ...base, coerceTypes: false })),
    other: addFormats(new Ajv({ ...base, coerceTypes: 'array' })),
  };
}

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,64}$/;

/** The charset parameters a JSON body may declare (names are case-insensitive). */
const UTF_8 = new Set(['utf-8', 'utf8']);

/** Header names as clients write them, for error details. */
const headerNames: Record<string, string> = {
  'client-id': 'Client-Id',
  'queue-token': 'Queue-Token',
  'idempotency-key': 'Idempotency-Key',
  authorization: 'Authorization',
};

/** Maps a schema validation failure to a stable code naming the offending field. */
function validationError(error: FastifyError): AppError {
  const [first] = error.validation ?? [];
  const params = (first?.params ?? {}) as { missingProperty?: string; additionalProperty?: string };
  const path = (first?.instancePath ?? '').split('/').filter(Boolean).join('.');
  const property = params.missingProperty ?? params.additionalProperty;
  const field = [path, property].filter(Boolean).join('.') || error.validationContext || 'request';
  if (error.validationContext === 'headers') {
    const header = field.split('.')[0] ?? field;
    const missing = params.missingProperty !== undefined;
    if (header === 'client-id') {
      return missing
        ? new AppError('CLIENT_ID_REQUIRED', 'Send your user id in the Client-Id header.', {
            field: 'Client-Id',
          })
        : new AppError('CLIENT_ID_INVALID', 'Client-Id must be a positive integer user id.', {
            field: 'Client-Id',
          });
    }
    if (header === 'authorization') {
      return missing
        ? new AppError('AUTH_REQUIRED', 'Send Authorization: Bearer <JWT>.', {
            field: 'Authorization',
          })
        : new AppError('AUTH_INVALID', 'The Authorization header is not a bearer JWT.', {
            field: 'Authorization',
          });
    }
    if (header === 'queue-token') {
      return missing
        ? new AppError('QUEUE_TOKEN_REQUIRED', 'Send your queue token in the Queue-Token header.', {
            field: 'Queue-Token',
          })
        : new AppError('QUEUE_TOKEN_INVALID', 'The Queue-Token is malformed.', {
            field: 'Queue-Token',
          });
    }
    const name = headerNames[header] ?? header;
    return new AppError('INVALID_REQUEST', `Header ${name} ${first?.message ?? 'is invalid'}.`, {
      field: name,
    });
  }
  const reason =
    params.additionalProperty !== undefined
      ? 'is not a known field'
      : (first?.message ?? 'is invalid');
  return new AppError('INVALID_REQUEST', `${field} ${reason}.`, { field });
}

/** Any error → the public error: stable code, no internals. */
export function toAppError(error: unknown): AppError {
  if (isAppError(error)) return error;
  const fastifyError = error as Partial<FastifyError>;
  if (fastifyError.validation) return validationError(fastifyError as FastifyError);
  switch (fastifyError.code) {
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return new AppError('UNSUPPORTED_MEDIA_TYPE', 'Send the body as application/json.', {
        field: 'Content-Type',
      });
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new AppError('PAYLOAD_TOO_LARGE', 'The request body is too large.', { field: 'body' });
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return new AppError('INVALID_REQUEST', 'The JSON body is empty.', { field: 'body' });
    case 'FST_ERR_RATE_LIMITED':
      return new AppError('RATE_LIMITED', 'Too many requests; slow down.');
    default:
      break;
  }
  if (error instanceof SyntaxError || fastifyError.code === 'FST_ERR_CTP_INVALID_JSON_BODY') {
    return new AppError('INVALID_REQUEST', 'The body is not valid JSON.', { field: 'body' });
  }
  if (
    typeof fastifyError.statusCode === 'number' &&
    fastifyError.statusCode >= 400 &&
    fastifyError.statusCode < 500
  ) {
    return new AppError('INVALID_REQUEST', fastifyError.message ?? 'Bad request.', {
      field: 'request',
    });
  }
  if (isDatabaseUnavailable(error))
    return new AppError('SERVICE_UNAVAILABLE', 'The database is unavailable; retry shortly.');
  if (isRedisUnavailable(error))
    return new AppError('SERVICE_UNAVAILABLE', 'The waiting room is unavailable; retry shortly.');
  return new AppError('INTERNAL_ERROR', 'Something went wrong on our side; it has been logged.');
}

/** One spelling per number: decimal digits, no sign but minus, no leading zeros. */
const DECIMAL_INTEGER = /^-?(0|[1-9][0-9]*)$/;

/** Names of the integer properties of a params/querystring schema. */
function integerProperties(schema: unknown): string[] {
  const properties =
    (schema as { properties?: Record<string, { type?: unknown }> } | undefined)?.properties ?? {};
  return Object.entries(properties)
    .filter(([, property]) => property.type === 'integer')
    .map(([name]) => name);
}

/**
 * Integers in the path and query must be written as plain decimal digits: without this, coercion
 * by Number() would let "0x6", "6e0", "+6" or "006" name concert 6. Added to the routes that have
 * them.
 */
function requireDecimalIntegers(route: RouteOptions): void {
  const parts = [
    ['params', integerProperties(route.schema?.params)],
    ['query', integerProperties(route.schema?.querystring)],
  ] as const;
  if (parts.every(([, names]) => names.length === 0)) return;
  const check: preValidationHookHandler = (request, _reply, done) => {
    for (const [part, names] of parts) {
      const values = request[part] as Record<string, unknown>;
      for (const name of names) {
        const value = values[name];
        if (typeof value === 'string' && !DECIMAL_INTEGER.test(value)) {
          done(
            new AppError(
              'INVALID_REQUEST',
              `${name} must be written as a whole decimal number without leading zeros.`,
              { field: name },
            ),
          );
          return;
        }
      }
    }
    done();
  };
  const existing = route.preValidation;
  route.preValidation =
    existing === undefined
      ? [check]
      : [...(Array.isArray(existing) ? existing : [existing]), check];
}

/**
 * Fastify's trustProxy for TRUST_PROXY. Fastify 5.12 treats a bare hop count as "trust nobody"
 * (it cannot tell a proxy from a client that connects directly and writes the header itself),
 * so a count becomes the function "the nearest `hops` senders" here: right only when clients
 * reach the instance through the proxies alone, which the start-up warning says.
 */
function trustProxyOf(
  trust: TrustProxy,
): boolean | string[] | ((address: string, hop: number) => boolean) {
  if (typeof trust !== 'number') return trust;
  return (_address, hop) => hop < trust;
}

/**
 * Answers a connection-level error (malformed HTTP, ERR_HTTP_REQUEST_TIMEOUT) in the envelope and
 * closes the connection for good: ending only our side would leave it half open for a client
 * that keeps sending. No answer when a reply has begun on it (it would corrupt that reply).
 */
function hangUp(error: NodeJS.ErrnoException, socket: Duplex, logger: Logger): void {
  const timedOut = error.code === 'ERR_HTTP_REQUEST_TIMEOUT';
  if (timedOut) logger.debug('client too slow: request not received in time');
  const replying =
    (socket as Duplex & { _httpMessage?: { headersSent?: boolean } })._httpMessage?.headersSent ===
    true;
  if (!socket.writable || replying) {
    socket.destroy();
    return;
  }
  const [status, body] = timedOut
    ? [
        '408 Request Timeout',
        {
          code: 'REQUEST_TIMEOUT',
          message: 'The request was not received in time.',
          data: null,
        },
      ]
    : [
        '400 Bad Request',
        { code: 'INVALID_REQUEST', message: 'Malformed HTTP request.', data: null },
      ];
  const text = JSON.stringify(body);
  socket.end(
    `HTTP/1.1 ${status}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(text)}\r\nConnection: close\r\n\r\n${text}`,
  );
  // Closed once the answer is out, or after a second for a client that does not read it.
  const destroy = () => socket.destroy();
  socket.once('finish', destroy);
  setTimeout(destroy, 1_000).unref();
}

export interface BuildAppOptions {
  container: Container;
  logger: Logger;
}

export interface BuiltApp {
  app: App;
  /** Start refusing new requests with 503 (graceful shutdown). */
  beginClosing: () => void;
}

export async function buildApp({ container, logger }: BuildAppOptions): Promise<BuiltApp> {
  const { config } = container;
  let closing = false;
  const fastifyLogger: FastifyBaseLogger = logger;
  const app = Fastify({
    loggerInstance: fastifyLogger,
    // One line per request, when it completes (src/request-log.ts).
    logController: requestLog(),
    bodyLimit: config.BODY_LIMIT_BYTES,
    // request.ip (rate limits, logs), request.protocol and request.host from X-Forwarded-* as far
    // as TRUST_PROXY trusts the hops; off, a client's own X-Forwarded-For is ignored.
    trustProxy: trustProxyOf(config.TRUST_PROXY),
    genReqId: (request) => {
      const incoming = request.headers['x-request-id'];
      return typeof incoming === 'string' && REQUEST_ID.test(incoming) ? incoming : randomUUID();
    },
    // Slow clients must not hold connections (a few hundred trickling bodies exhausted an
    // instance's descriptors). Node measures requestTimeout from a request's first byte until it
    // has been received in full, so replies of any length, live streams included, are not cut;
    // headersTimeout also covers a new connection that sends nothing. Node checks both on a
    // timer, every second here (or a fifth of the header timeout, if shorter), instead of its
    // default 30 s.
    requestTimeout: config.REQUEST_TIMEOUT_MS,
    keepAliveTimeout: config.KEEP_ALIVE_TIMEOUT_MS,
    http: {
      requestTimeout: config.REQUEST_TIMEOUT_MS,
      headersTimeout: config.HEADERS_TIMEOUT_MS,
      connectionsCheckingInterval: Math.min(1_000, Math.ceil(config.HEADERS_TIMEOUT_MS / 5)),
    },
    // Our own 503 (in the envelope) replaces Fastify's plain one while closing.
    return503OnClosing: false,
    forceCloseConnections: 'idle',
    // Errors Fastify raises before routing (bad percent-encoding, over-long parameters) get
    // the envelope and a request id like every other reply.
    frameworkErrors: (error: FastifyError, request: FastifyRequest, reply: FastifyReply) => {
      reply.header('x-request-id', request.id);
      request.replyCode = 'INVALID_REQUEST';
      void reply.status(400).send({
        code: 'INVALID_REQUEST',
        message: `The URL is malformed: ${error.message}`,
        data: { field: 'url' },
      });
    },
    // Bytes that are not HTTP at all, or a request not received within its time: answer in the
    // envelope and hang up.
    clientErrorHandler: (error, socket) => hangUp(error, socket, logger),
  }).withTypeProvider<TypeBoxTypeProvider>();
  // JSON only: Fastify would otherwise hand text/plain bodies to routes as strings.
  app.removeContentTypeParser('text/plain');
  // JSON in UTF-8 only: Fastify decodes every body as UTF-8 whatever its charset says, so a
  // UTF-16 body would be read as garbage and a Latin-1 one silently misread (RFC 8259: JSON
  // exchanged between systems is UTF-8).
  const parseJson = app.getDefaultJsonParser('error', 'error');
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) => {
    const header = request.headers['content-type'] ?? '';
    const charset = parseContentType(header).parameters.charset?.toLowerCase();
    if (charset !== undefined && !UTF_8.has(charset)) {
      done(
        new AppError('UNSUPPORTED_MEDIA_TYPE', 'Send the body as JSON in UTF-8.', {
          field: 'Content-Type',
        }),
        undefined,
      );
      return;
    }
    void parseJson(request, body as string, done);
  });

  app.addHook('onRoute', requireDecimalIntegers);
  decorateRequestLog(app);

  const { body, other } = validators();
  app.setValidatorCompiler(({ schema, httpPart }) =>
    (httpPart === 'body' ? body : other).compile(schema),
  );

  app.addHook('onRequest', async (request, reply) => {
    reply.header('x-request-id', request.id);
    if (closing) {
      throw new AppError(
        'SERVICE_UNAVAILABLE',
        'The server is shutting down; retry on another instance.',
      );
    }
  });

  // While closing, every reply ends its keep-alive connection, so connections busy when the
  // shutdown began do not linger idle until the keep-alive timeout and hold up the exit.
  app.addHook('onSend', async (_request, reply) => {
    if (closing) reply.header('connection', 'close');
  });

  app.setErrorHandler((error, request, reply) => {
    const appError = toAppError(error);
    request.replyCode = appError.code;
    if (appError.code === 'INTERNAL_ERROR') {
      request.log.error({ err: error }, 'request failed');
    } else if (appError.status >= 500) {
      request.log.warn(
        { code: appError.code, reason: error instanceof Error ? error.message : String(error) },
        'request refused',
      );
    }
    return reply
      .status(appError.status)
      .send({ code: appError.code, message: appError.message, data: appError.details ?? null });
  });

  app.setNotFoundHandler((request, reply) => {
    request.replyCode = 'NOT_FOUND';
    return reply.status(404).send({
      code: 'NOT_FOUND',
      message: `No route ${request.method} ${request.url.split('?')[0] ?? ''}.`,
      data: null,
    });
  });

  const auth = await createAuth(config);
  const headersFor = securityHeaders();
  app.addHook('onRequest', (request, reply, done) => {
    reply.headers(headersFor(request));
    done();
  });
  if (config.CORS_ORIGINS !== '') {
    const origins = config.CORS_ORIGINS.split(',').map((origin) => origin.trim());
    await app.register(cors, {
      origin: origins.includes('*') ? true : origins,
      allowedHeaders: [
        'Content-Type',
        'Authorization',
        'Client-Id',
        'Queue-Token',
        'Idempotency-Key',
        'X-Request-Id',
      ],
      exposedHeaders: ['Retry-After', 'X-Request-Id'],
      methods: ['GET', 'POST', 'DELETE'],
    });
  }
  await registerRateLimits(app, { config, auth, redis: container.redis });

  await registerOpenApi(app, auth);
  registerLandingPage(app);

  registerHealthRoutes(app, {
    database: container.database,
    // Only the waiting room makes Redis a condition of serving: a bus outage leaves payments
    // working (the outbox keeps the events), so it must not take the instance out of rotation.
    redis: config.QUEUE_BACKEND !== 'postgres' ? container.redis : undefined,
    outboxLag: container.relay.lag,
    isClosing: () => closing,
  });
  const guards = createGuards(auth, container.queue);
  // Routes opt in with `sse`; heartbeats come from the live-positions timer instead.
  // (`.default`: the package's types describe an ES module; at run time fastify-plugin's wrapper
  // is both the CommonJS export and its own `default`.)
  await app.register(fastifySSE.default, { heartbeatInterval: 0 });
  // Open streams would hold app.close() (it waits for connections) until the grace period ends.
  app.addHook('preClose', (done) => {
    container.live.closeAll();
    done();
  });
  registerQueueRoutes(app, {
    queue: container.queue,
    guards,
    live: container.live,
    streamLimits: container.streamLimits,
  });
  registerConcertRoutes(app, { concerts: container.concerts, guards });
  registerHoldRoutes(app, { holds: container.holds, guards });
  registerReservationRoutes(app, { reservations: container.reservations, guards });
  registerBalanceRoutes(app, {
    balance: container.balance,
    maxChargeAmount: config.MAX_CHARGE_AMOUNT,
    guards,
  });
  registerAdminRoutes(app, { deliveries: container.deliveries, guards });

  return {
    app,
    beginClosing: () => {
      closing = true;
    },
  };
}
