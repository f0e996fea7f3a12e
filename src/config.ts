import { compile as compileTrust } from '@fastify/proxy-addr';
import { isIP } from 'node:net';
import envSchema from 'env-schema';
import { Type, type Static } from 'typebox';
import { KEY_PREFIX_PATTERN } from './redis/keys.js';

/**
 * Every environment variable Overture reads, with its default and meaning. This schema is the
 * single source: it validates the environment at start-up and `npm run config:table` prints the
 * README's configuration table from it.
 */
const int = (defaultValue: number, minimum: number, maximum: number, description: string) =>
  Type.Integer({ default: defaultValue, minimum, maximum, description });

export const configSchema = Type.Object({
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
  DATABASE_URL: Type.String({
    default: '',
    description: 'PostgreSQL connection string. Empty: the embedded PGlite database.',
  }),
  DB_POOL_SIZE: int(10, 1, 500, 'Connections in the pg pool (real PostgreSQL only).'),
  PGLITE_DIR: Type.String({
    default: '.data/pglite',
    minLength: 1,
    description: 'Data folder of the embedded database, kept across restarts.',
  }),
  PGLITE_IN_MEMORY: Type.Boolean({
    default: false,
    description:
      'true: the embedded database lives in memory only; every start begins afresh (with the demo concerts unless SEED_DEMO_DATA=false).',
  }),
  ALLOW_EMBEDDED_DATABASE: Type.Boolean({
    default: false,
    description:
      'Lets NODE_ENV=production start on the embedded PGlite database (DATABASE_URL empty); otherwise refused.',
  }),
  SEED_DEMO_DATA: Type.Boolean({
    default: true,
    description:
      'Load demo concerts when the database has none. With NODE_ENV=production the default is false.',
  }),
  MAX_ACTIVE: int(50, 1, 1_000_000, 'Shoppers admitted (ACTIVE) at once.'),
  ACTIVE_TOKEN_TTL_SECONDS: int(300, 1, 86_400, 'Lifetime of an ACTIVE token.'),
  WAITING_TOKEN_IDLE_SECONDS: int(
    1800,
    1,
    86_400,
    'A WAITING token not polled for this long expires.',
  ),
  SEAT_HOLD_TTL_SECONDS: int(
    300,
    1,
    86_400,
    'Lifetime of a seat hold (never extended by a repeat request).',
  ),
  ADMISSION_INTERVAL_MS: int(
    250,
    10,
    60_000,
    'Period of the admission worker (expiry + refill); freed slots also refill at once on this instance.',
  ),
  MAX_CHARGE_AMOUNT: int(10_000_000, 1, 1_000_000_000_000, 'Largest single charge, in won.'),
  MAX_BALANCE: int(
    1_000_000_000_000,
    1,
    Number.MAX_SAFE_INTEGER,
    'Largest balance a user may hold, in won.',
  ),
  POPULAR_LIMIT: int(10, 1, 100, 'How many concerts the popular list returns.'),
  POPULAR_CACHE_MS: int(
    1000,
    0,
    60_000,
    'How long an instance serves the popular list from memory.',
  ),
  OUTBOX_INTERVAL_MS: int(
    500,
    10,
    60_000,
    'Period of the outbox relay when no local commit wakes it.',
  ),
  OUTBOX_LEASE_MS: int(
    10_000,
    100,
    600_000,
    'How long a relay instance owns an outbox shard without renewing it (renewed before each batch). A relay that stopped, crashed or lost its database connection loses its shards at once (its presence lock is gone); this is the fallback for one that holds its connection but stopped renewing.',
  ),
  EVENT_BUS: Type.Enum(['inprocess', 'redis', 'kafka'], {
    default: 'inprocess',
    description:
      'Where the relay publishes committed events: inprocess (consumers in this process, no broker), redis (Redis Streams on REDIS_URL) or kafka (KAFKA_BROKERS). Unset with KAFKA_BROKERS set: kafka.',
  }),
  KAFKA_BROKERS: Type.String({
    default: '',
    description:
      'Comma-separated Kafka bootstrap servers (host:port). Setting it enables the Kafka bus unless EVENT_BUS names another.',
  }),
  KAFKA_TOPIC_PARTITIONS: int(
    6,
    1,
    10_000,
    'Partitions of the event topics (reservation.confirmed) the Kafka bus creates when they are missing; also how many partitions a consumer handles side by side.',
  ),
  KAFKA_PUBLISH_TIMEOUT_MS: int(
    5_000,
    100,
    600_000,
    'A publish to Kafka not acknowledged by all in-sync replicas after this long fails and the relay retries it; keep it below OUTBOX_LEASE_MS.',
  ),
  KAFKA_SESSION_TIMEOUT_MS: int(
    30_000,
    1_000,
    3_600_000,
    "A Kafka consumer silent this long leaves its group and its partitions move (the broker's group.min/max.session.timeout.ms bound it).",
  ),
  REDIS_STREAM_SHARDS: int(
    8,
    1,
    1_024,
    'Redis Streams the events are spread over by hash of their key (the concert); each is read by one consumer of a group at a time. Change only with empty streams.',
  ),
  REDIS_STREAM_CLAIM_IDLE_MS: int(
    30_000,
    100,
    3_600_000,
    'A Redis Streams consumer silent this long is dead: another takes its shards and claims its unacknowledged events.',
  ),
  REDIS_STREAM_RETENTION_HOURS: int(
    168,
    1,
    87_600,
    'Stream entries every group acknowledged are trimmed at once; entries older than this are trimmed even if a group never acknowledged them.',
  ),
  DELIVERY_INTERVAL_MS: int(
    500,
    10,
    60_000,
    'Period of the worker that retries failed and deferred event deliveries.',
  ),
  DELIVERY_LEASE_MS: int(
    60_000,
    100,
    3_600_000,
    "How long a delivery attempt owns its row; a crashed worker's rows are retried after this (longer than DATA_PLATFORM_TIMEOUT_MS).",
  ),
  EVENT_MAX_ATTEMPTS: int(
    0,
    0,
    1_000_000,
    'Attempts per consumer and event before it becomes a dead letter. 0: no limit by count; EVENT_RETRY_HORIZON_MINUTES decides.',
  ),
  EVENT_RETRY_HORIZON_MINUTES: int(
    720,
    1,
    43_200,
    'How long a failing event is retried, counted from its first failure (or its replay), before its next failure makes it a dead letter for an operator to replay. Retries come at most EVENT_RETRY_MAX_MS apart, so deliveries resume by themselves after any outage shorter than this.',
  ),
  EVENT_RETRY_BASE_MS: int(
    1_000,
    1,
    3_600_000,
    'First retry delay; doubles per attempt, with jitter.',
  ),
  EVENT_RETRY_MAX_MS: int(300_000, 1, 86_400_000, 'Longest retry delay.'),
  DATA_PLATFORM_URL: Type.String({
    default: '',
    description:
      'Where each confirmed reservation is POSTed (Idempotency-Key: event id). Empty: not sent.',
  }),
  DATA_PLATFORM_TIMEOUT_MS: int(
    2_000,
    1,
    60_000,
    'A data-platform send without an answer after this long counts as failed.',
  ),
  RETENTION_HOURS: int(
    24,
    1,
    8_760,
    'Expired tokens, idempotency keys, sent events and the records of delivered ones (which keep an event published again from being sent again) older than this are purged.',
  ),
  AUTH_MODE: Type.Enum(['client-id', 'jwt'], {
    default: 'client-id',
    description:
      "client-id: the seed's Client-Id header names the user (trusts the client; demo and seed compatibility). jwt: Authorization: Bearer <JWT> proves it.",
  }),
  ALLOW_CLIENT_ID_AUTH: Type.Boolean({
    default: false,
    description: 'Lets AUTH_MODE=client-id start with NODE_ENV=production (otherwise refused).',
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
  SHUTDOWN_TIMEOUT_MS: int(
    10_000,
    100,
    600_000,
    'Grace period for in-flight requests on SIGTERM/SIGINT.',
  ),
  QUEUE_BACKEND: Type.Enum(['postgres', 'redis', 'stream'], {
    default: 'postgres',
    description:
      'Where the waiting room lives: postgres (the database), redis (REDIS_URL) or stream (joins appended to the Kafka topic QUEUE_STREAM_TOPIC on KAFKA_BROKERS and placed in the Redis waiting room by an ordered consumer).',
  }),
  QUEUE_STREAM_TOPIC: Type.String({
    default: 'queue.entries',
    minLength: 1,
    maxLength: 249,
    pattern: '^[A-Za-z0-9._-]+$',
    description:
      'QUEUE_BACKEND=stream: the Kafka topic of queue entries (keyed by user id). Its consumer group is overture.queue.{REDIS_KEY_PREFIX}.',
  }),
  QUEUE_STREAM_PARTITIONS: int(
    6,
    1,
    10_000,
    'QUEUE_BACKEND=stream: partitions of QUEUE_STREAM_TOPIC when the service creates it; order is exact within a partition, 1 makes the line strictly first come, first served.',
  ),
  QUEUE_STREAM_APPLY_WAIT_MS: int(
    1_000,
    0,
    60_000,
    'QUEUE_BACKEND=stream: how long a join waits for its entry to be placed before answering WAITING with its provisional place (behind the line and every earlier join). 0: answer as soon as the log has the entry.',
  ),
  QUEUE_STREAM_PRODUCE_TIMEOUT_MS: int(
    3_000,
    100,
    600_000,
    'QUEUE_BACKEND=stream: a join whose entry the Kafka brokers have not acknowledged (acks=all) after this long answers 503.',
  ),
  QUEUE_STREAM_FETCH_WAIT_MS: int(
    10,
    1,
    10_000,
    'QUEUE_BACKEND=stream: longest wait of a consumer fetch at the broker. Real brokers answer when an entry arrives; brokers that wait the whole time (the librdkafka mock) delay placements by up to this much.',
  ),
  REDIS_URL: Type.String({
    default: 'redis://127.0.0.1:6379',
    minLength: 1,
    description:
      'Redis connection string (used when QUEUE_BACKEND=redis or stream, or EVENT_BUS=redis).',
  }),
  REDIS_KEY_PREFIX: Type.String({
    default: 'overture',
    pattern: KEY_PREFIX_PATTERN,
    description:
      'Prefix of every Redis key; instances sharing one waiting room use the same prefix.',
  }),
  REDIS_COMMAND_TIMEOUT_MS: int(
    1_000,
    10,
    60_000,
    'A Redis call without a reply after this long fails; the request answers 503.',
  ),
  SSE_INTERVAL_MS: int(
    500,
    50,
    10_000,
    'Period of the one timer per instance that reads the tokens of all live streams in one batched call and pushes what changed (also run at once after a local admission run).',
  ),
  SSE_HEARTBEAT_MS: int(
    15_000,
    1_000,
    300_000,
    'A live stream (GET /api/v1/queue/token/stream) with nothing to say for this long gets a `: ping` comment.',
  ),
  SSE_MAX_STREAMS_PER_USER: int(
    3,
    1,
    1_000,
    'Live streams one user (their queue token) may hold open at once on an instance; one more is refused with 429 TOO_MANY_STREAMS until one closes.',
  ),
  SSE_MAX_STREAMS_PER_ADDRESS: int(
    100,
    1,
    1_000_000,
    'Live streams one client address (see TRUST_PROXY) may hold open at once on an instance, all users together; one more is 429 TOO_MANY_STREAMS.',
  ),
  ADMISSION_RATE_WINDOW_SECONDS: int(
    60,
    5,
    3_600,
    'Window of the measured admission rate (admissions per second, all instances) behind estimatedWaitSeconds.',
  ),
  SEAT_GATE_ENABLED: Type.Boolean({
    default: true,
    description:
      'A short gate per seat in front of the database hold (in Redis when there is one, else per instance), so a storm of holds on one seat costs the database about one hold transaction (PostgreSQL still decides).',
  }),
  SEAT_GATE_TTL_MS: int(
    2_000,
    1,
    60_000,
    "Lifetime of a seat's gate key: the longest one hold attempt keeps it, and how long a seat just decided in the database answers 409 from Redis.",
  ),
});

/** TRUST_PROXY as Fastify's trustProxy takes it. */
export type TrustProxy = boolean | number | string[];

export type Config = Omit<Static<typeof configSchema>, 'TRUST_PROXY'> & { TRUST_PROXY: TrustProxy };

const invalid = (lines: string[]) =>
  new ConfigError(`Invalid configuration:\n${lines.map((line) => `  ${line}`).join('\n')}`);

/** The address ranges proxy-addr knows by name. */
const NAMED_RANGES = new Set(['loopback', 'linklocal', 'uniquelocal']);

/** TRUST_PROXY's text: true/false, a hop count, or addresses and ranges checked as Fastify will read them. */
function parseTrustProxy(value: string): TrustProxy {
  const lower = value.toLowerCase();
  if (lower === 'true' || lower === 'false') return lower === 'true';
  if (/^[0-9]+$/.test(value)) return Number(value);
  const entries = value
    .split(',')
    .map((entry) => entry.trim())
    .filter((entry) => entry !== '');
  try {
    if (entries.length === 0) throw new Error('no address');
    // proxy-addr also takes legacy IPv4 forms ("1.5" = 1.0.0.5): only canonical ones here.
    const odd = entries.find(
      (entry) => !NAMED_RANGES.has(entry) && isIP(entry.split('/')[0] ?? '') === 0,
    );
    if (odd !== undefined) throw new Error(`invalid IP address: ${odd}`);
    compileTrust(entries);
  } catch (error) {
    throw invalid([
      `TRUST_PROXY="${value}" is not allowed: expected true, false, a hop count or a list of IP addresses / CIDR ranges (${(error as Error).message})`,
    ]);
  }
  return entries;
}

/** KAFKA_BROKERS as a list. */
export const kafkaBrokers = (config: Pick<Config, 'KAFKA_BROKERS'>): string[] =>
  config.KAFKA_BROKERS.split(',')
    .map((broker) => broker.trim())
    .filter((broker) => broker !== '');

export class ConfigError extends Error {
  override name = 'ConfigError';
}

type PropertySchema = {
  type?: string;
  enum?: readonly string[];
  minimum?: number;
  maximum?: number;
  minLength?: number;
  maxLength?: number;
  pattern?: string;
};

/** What a variable accepts, in words, from its schema. */
function allowedValues(schema: PropertySchema): string {
  if (schema.enum) return `one of ${schema.enum.join(', ')}`;
  if (schema.type === 'boolean') return 'true or false';
  if (schema.type === 'integer')
    return `a whole number from ${schema.minimum ?? '-∞'} to ${schema.maximum ?? '∞'}`;
  const rules = [
    schema.pattern === undefined ? '' : `matching ${schema.pattern}`,
    schema.maxLength === undefined ? '' : `at most ${schema.maxLength} characters`,
  ].filter(Boolean);
  return `text ${rules.join(', ')}`.trim();
}

/** `NAME="value"`, without the value of a secret. */
const given = (name: string, value: unknown): string =>
  /SECRET|PASSWORD/.test(name) ? `${name} (value not shown)` : `${name}=${JSON.stringify(value)}`;

/** One line per refused variable: its name, the value given and what it accepts. */
function describeInvalid(errors: { instancePath?: string }[], data: Record<string, unknown>) {
  const names = [...new Set(errors.map((error) => (error.instancePath ?? '').replace(/^\//, '')))];
  const properties = configSchema.properties as Record<string, PropertySchema>;
  return names
    .filter((name) => name !== '')
    .map((name) => {
      const schema = properties[name] ?? {};
      return `${given(name, data[name])} is not allowed: expected ${allowedValues(schema)}`;
    });
}

/**
 * Parses and validates the environment once; throws a ConfigError with one line per bad
 * variable, naming it, the value given and what it accepts.
 */
export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
  const data = Object.fromEntries(
    Object.keys(configSchema.properties)
      .map((key) => [key, env[key]?.trim()] as const)
      .filter(([, value]) => value !== undefined && value !== ''),
  );
  // KAFKA_BROKERS alone enables the Kafka bus (the seed's convention); EVENT_BUS, when given, decides.
  if (data.EVENT_BUS === undefined && data.KAFKA_BROKERS !== undefined) data.EVENT_BUS = 'kafka';
  // Demo concerts in a production database only when asked for by name.
  if (data.SEED_DEMO_DATA === undefined && data.NODE_ENV === 'production')
    data.SEED_DEMO_DATA = 'false';
  let parsed: Static<typeof configSchema>;
  try {
    parsed = envSchema<Static<typeof configSchema>>({
      schema: configSchema,
      data: { ...data },
      env: false,
    });
  } catch (error) {
    const lines = describeInvalid((error as { errors?: [] }).errors ?? [], data);
    throw invalid(lines.length > 0 ? lines : [(error as Error).message]);
  }
  const config: Config = { ...parsed, TRUST_PROXY: parseTrustProxy(parsed.TRUST_PROXY) };
  const brokers = 'KAFKA_BROKERS (comma-separated host:port), which is empty';
  if (config.EVENT_BUS === 'kafka' && kafkaBrokers(config).length === 0) {
    throw invalid([`EVENT_BUS="kafka" needs ${brokers}`]);
  }
  if (config.QUEUE_BACKEND === 'stream' && kafkaBrokers(config).length === 0) {
    throw invalid([`QUEUE_BACKEND="stream" needs ${brokers}`]);
  }
  if (config.HEADERS_TIMEOUT_MS > config.REQUEST_TIMEOUT_MS) {
    throw invalid([
      `HEADERS_TIMEOUT_MS=${config.HEADERS_TIMEOUT_MS} is not allowed: expected at most REQUEST_TIMEOUT_MS (${config.REQUEST_TIMEOUT_MS})`,
    ]);
  }
  if (config.MAX_CHARGE_AMOUNT > config.MAX_BALANCE) {
    throw invalid([
      `MAX_CHARGE_AMOUNT=${config.MAX_CHARGE_AMOUNT} is not allowed: expected at most MAX_BALANCE (${config.MAX_BALANCE})`,
    ]);
  }
  // The fence that stops a paid token from paying again is purged after RETENTION_HOURS.
  if (
    config.RETENTION_HOURS * 3600 <
    config.ACTIVE_TOKEN_TTL_SECONDS + config.SEAT_HOLD_TTL_SECONDS
  ) {
    throw invalid([
      `RETENTION_HOURS=${config.RETENTION_HOURS} is not allowed: expected at least a token's longest life, ACTIVE_TOKEN_TTL_SECONDS + SEAT_HOLD_TTL_SECONDS (${config.ACTIVE_TOKEN_TTL_SECONDS + config.SEAT_HOLD_TTL_SECONDS} s)`,
    ]);
  }
  if (config.JWT_SECRET !== '' && config.JWT_SECRET.length < 32) {
    throw invalid([
      `JWT_SECRET has ${config.JWT_SECRET.length} characters: expected at least 32 characters (openssl rand -hex 32 makes one)`,
    ]);
  }
  if (config.AUTH_MODE === 'jwt') {
    const hasKey =
      config.JWT_ALGORITHM === 'HS256'
        ? config.JWT_SECRET !== ''
        : config.JWT_PUBLIC_KEY_FILE !== '' || config.JWT_JWKS_FILE !== '';
    if (!hasKey) {
      throw invalid([
        `AUTH_MODE="jwt" with JWT_ALGORITHM="${config.JWT_ALGORITHM}" needs ${config.JWT_ALGORITHM === 'HS256' ? 'JWT_SECRET (at least 32 characters)' : 'JWT_PUBLIC_KEY_FILE or JWT_JWKS_FILE'}, which is empty`,
      ]);
    }
  }
  if (
    config.AUTH_MODE === 'client-id' &&
    config.NODE_ENV === 'production' &&
    !config.ALLOW_CLIENT_ID_AUTH
  ) {
    throw invalid([
      'AUTH_MODE="client-id" (the default) trusts any caller to name any user: refused with NODE_ENV="production"; expected AUTH_MODE=jwt, or ALLOW_CLIENT_ID_AUTH=true to accept the risk',
    ]);
  }
  if (
    config.NODE_ENV === 'production' &&
    config.DATABASE_URL === '' &&
    !config.ALLOW_EMBEDDED_DATABASE
  ) {
    throw invalid([
      'NODE_ENV="production" needs a PostgreSQL server, and DATABASE_URL is empty (the embedded PGlite ' +
        'database): expected DATABASE_URL=postgres://user:password@host:5432/overture, or ' +
        'ALLOW_EMBEDDED_DATABASE=true to run production on PGlite anyway (one process, one ' +
        'connection: for development and demos)',
    ]);
  }
  return config;
}
