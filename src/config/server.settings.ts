import { Type } from 'typebox';
import { int } from './setting.js';

/** The process: environment, where it listens, how it logs. */
export const serviceSettings = {
  NODE_ENV: Type.Enum(['development', 'production', 'test'], {
    default: 'development',
    description: 'development, production or test.',
  }),
  HOST: Type.String({
    default: '127.0.0.1',
    minLength: 1,
    description: 'Address to listen on (0.0.0.0 for all interfaces).',
  }),
  PORT: int(3000, 0, 65535, 'TCP port to listen on (0 picks a free port).'),
  LOG_LEVEL: Type.Enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'], {
    default: 'info',
    description: 'pino log level.',
  }),
  LOG_FORMAT: Type.Enum(['auto', 'json', 'pretty'], {
    default: 'auto',
    description:
      'auto: readable lines (pino-pretty) when stdout is a terminal and NODE_ENV is not production, JSON lines otherwise. json or pretty: always that.',
  }),
};

/** Who a request acts for: the seed's Client-Id header or a verified JWT. */
export const authSettings = {
  AUTH_MODE: Type.Enum(['client-id', 'jwt'], {
    default: 'client-id',
    description:
      "client-id: the seed's Client-Id header names the user (trusts the client; demo and seed compatibility). jwt: Authorization: Bearer <JWT> proves it.",
  }),
  ALLOW_CLIENT_ID_AUTH: Type.Boolean({
    default: false,
    description: 'Lets AUTH_MODE=client-id start with NODE_ENV=production (otherwise refused).',
  }),
  OPERATOR_KEY: Type.String({
    default: '',
    description:
      'AUTH_MODE=client-id: the key operator calls send as Authorization: Bearer <key> (at least 32 characters). Empty on the embedded database: one is generated at first start, kept in PGLITE_DIR and printed with the start-up banner; empty on PostgreSQL: operator endpoints are off (403 OPERATOR_ROUTES_OFF).',
  }),
  POW_SECRET: Type.String({
    default: '',
    description:
      'Signs the proof-of-work challenges of rooms that require one (HMAC-SHA256; at least 32 characters; the same on every instance). Empty on the embedded database: one is generated at first start and kept in PGLITE_DIR; empty on PostgreSQL: rooms cannot require a proof of work.',
  }),
  JWT_ALGORITHM: Type.Enum(['HS256', 'RS256', 'ES256'], {
    default: 'HS256',
    description:
      'Signature algorithm of user JWTs: HS256 (JWT_SECRET) or RS256/ES256 (JWT_PUBLIC_KEY_FILE or JWT_JWKS_FILE).',
  }),
  JWT_SECRET: Type.String({
    default: '',
    description:
      'HS256 shared secret (at least 32 characters). Also lets `npm run token` mint tokens.',
  }),
  JWT_PUBLIC_KEY_FILE: Type.String({
    default: '',
    description: 'PEM public key (SPKI) for RS256/ES256.',
  }),
  JWT_PRIVATE_KEY_FILE: Type.String({
    default: '',
    description:
      'PKCS#8 PEM private key `npm run token` signs RS256/ES256 tokens with (local use; the server only verifies, with JWT_PUBLIC_KEY_FILE or JWT_JWKS_FILE).',
  }),
  JWT_JWKS_FILE: Type.String({
    default: '',
    description: 'A JWKS file with the public keys for RS256/ES256 (chosen by kid).',
  }),
  JWT_ISSUER: Type.String({ default: '', description: "When set, a JWT's iss must equal it." }),
  JWT_AUDIENCE: Type.String({ default: '', description: "When set, a JWT's aud must contain it." }),
  JWT_MAX_AGE_SECONDS: int(
    86_400,
    1,
    31_536_000,
    'Longest JWT lifetime accepted: exp − iat, or exp − now for a token without iat. Longer-lived tokens are refused (401 AUTH_INVALID).',
  ),
  JWT_CLOCK_TOLERANCE_SECONDS: int(
    30,
    0,
    300,
    "Clock skew allowed between the token issuer and this service when checking a JWT's exp, nbf and iat (an iat further in the future is refused).",
  ),
};

/** Requests per window, per client address and per user and route group. */
export const rateLimitSettings = {
  RATE_LIMIT_ENABLED: Type.Boolean({
    default: true,
    description:
      'Rate limits per client address and per user (429 with Retry-After); shared through Redis when Redis is used.',
  }),
  RATE_LIMIT_WINDOW_MS: int(10_000, 100, 3_600_000, 'Window of every rate limit.'),
  RATE_LIMIT_SYNC_MS: int(
    50,
    0,
    10_000,
    'With Redis: how often each instance adds its counts to the shared ones and reads the others back (the overshoot across instances is what they accept in that time). 0: ask Redis on every request.',
  ),
  RATE_LIMIT_IP_MAX: int(
    1_000,
    1,
    10_000_000,
    'Requests per window from one client address, all routes together.',
  ),
  RATE_LIMIT_QUEUE_MAX: int(
    30,
    1,
    1_000_000,
    'Requests per window per user to the queue routes (join, status, leave).',
  ),
  RATE_LIMIT_BOOKING_MAX: int(
    60,
    1,
    1_000_000,
    'Requests per window per user to concerts, seats, holds and payment.',
  ),
  RATE_LIMIT_ACCOUNT_MAX: int(
    30,
    1,
    1_000_000,
    'Requests per window per user to balance and reservation history.',
  ),
};

/** The HTTP server: proxies, CORS, body size, slow clients, shutdown. */
export const httpSettings = {
  TRUST_PROXY: Type.String({
    default: 'false',
    description:
      "Whom to believe about the client (X-Forwarded-For, -Proto, -Host) for its address in rate limits and logs: false (nobody: the connection's address), a hop count (1: the nearest proxy), a comma-separated list of proxy addresses or CIDR ranges (also loopback, linklocal, uniquelocal), or true (every hop: only behind a proxy that overwrites X-Forwarded-For).",
  }),
  CORS_ORIGINS: Type.String({
    default: '',
    description: 'Comma-separated origins allowed by CORS (* for any). Empty: no CORS headers.',
  }),
  BODY_LIMIT_BYTES: int(16_384, 256, 10_485_760, 'Largest accepted request body.'),
  REQUEST_TIMEOUT_MS: int(
    30_000,
    100,
    3_600_000,
    'Longest a client may take to send a whole request, headers and body, from its first byte: a slower one gets 408 REQUEST_TIMEOUT and is disconnected. Replies are not limited by it (live streams last).',
  ),
  HEADERS_TIMEOUT_MS: int(
    10_000,
    100,
    3_600_000,
    'Longest a client may take to send the request headers, and to send anything at all on a new connection; then it is disconnected. At most REQUEST_TIMEOUT_MS.',
  ),
  KEEP_ALIVE_TIMEOUT_MS: int(
    5_000,
    1,
    3_600_000,
    "A connection idle this long after a reply is closed (Node adds 1 s). Behind a load balancer, set it above the balancer's idle timeout (AWS ALB: 60 s → 65000).",
  ),
  WORKERS: Type.String({
    default: '1',
    pattern: '^(auto|[1-9][0-9]?)$',
    description:
      'Server processes on this host sharing PORT (node:cluster): a number from 1 to 99, or auto (one per core). A crashed one is started again; /metrics adds up all of them. Needs DATABASE_URL: the embedded database belongs to one process.',
  }),
  SHUTDOWN_TIMEOUT_MS: int(
    10_000,
    100,
    600_000,
    'Grace period for in-flight requests on SIGTERM/SIGINT.',
  ),
};

/** GET /metrics for Prometheus (docs/decisions/0038-metrics.md). */
export const metricsSettings = {
  METRICS: Type.Enum(['on', 'off'], {
    default: 'on',
    description:
      'on: GET /metrics answers in the Prometheus text format (requests, the sale, the outbox, the pool, Redis, the event loop). off: no /metrics and nothing counted.',
  }),
  METRICS_KEY: Type.String({
    default: '',
    description:
      'When set (at least 32 characters), GET /metrics needs Authorization: Bearer <key> (401 METRICS_KEY_INVALID otherwise). Empty: /metrics is open; keep it off the public network.',
  }),
};

/**
 * OpenTelemetry tracing (docs/decisions/0045). The SDK reads these standard variables itself
 * (src/tracing/), before this config is loaded; the schema validates and documents them.
 */
export const tracingSettings = {
  OTEL_EXPORTER_OTLP_ENDPOINT: Type.String({
    default: '',
    pattern: '^(https?://\\S+)?$',
    description:
      'Base URL of an OpenTelemetry collector (e.g. http://collector:4318; traces go to <url>/v1/traces). Set: spans of HTTP requests, SQL, Redis commands, the outbox relay, the event consumers and the data-platform send are exported over OTLP, and a payment is one trace from its request to the data platform (which receives its traceparent). Empty: tracing is off: no SDK, no module hooks, no trace context written to the outbox.',
  }),
  OTEL_EXPORTER_OTLP_PROTOCOL: Type.Enum(['http/protobuf', 'http/json', 'grpc'], {
    default: 'http/protobuf',
    description: 'How spans are sent to OTEL_EXPORTER_OTLP_ENDPOINT.',
  }),
  OTEL_SERVICE_NAME: Type.String({
    default: 'overture',
    minLength: 1,
    description: 'service.name of the exported spans.',
  }),
  OTEL_TRACES_SAMPLER: Type.Enum(
    [
      'parentbased_always_on',
      'parentbased_traceidratio',
      'parentbased_always_off',
      'always_on',
      'always_off',
      'traceidratio',
    ],
    {
      default: 'parentbased_always_on',
      description:
        'Which traces are kept: parentbased_* follows a caller that sent traceparent and decides alone for the others; traceidratio keeps the share OTEL_TRACES_SAMPLER_ARG of them.',
    },
  ),
  OTEL_TRACES_SAMPLER_ARG: Type.Number({
    default: 1,
    minimum: 0,
    maximum: 1,
    description: 'Share of traces the *traceidratio samplers keep (0 to 1).',
  }),
};

/** What GET /health/ready checks beyond the database and Redis (docs/decisions/0040). */
export const readinessSettings = {
  READY_WORKER_MISSED_RUNS: int(
    3,
    1,
    1_000,
    'GET /health/ready fails (worker-stalled) when a background worker (admission, outbox relay, delivery, housekeeping…) has not completed a run for this many of its intervals…',
  ),
  READY_WORKER_MIN_STALL_SECONDS: int(
    15,
    1,
    3_600,
    '…nor for at least this long, so short intervals do not flap on one slow run.',
  ),
  READY_MAX_OUTBOX_LAG_SECONDS: int(
    30,
    0,
    86_400,
    'GET /health/ready fails (outbox-lag) when the oldest committed event the bus has not accepted is older than this; 0: never.',
  ),
};
