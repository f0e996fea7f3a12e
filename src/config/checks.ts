import { kafkaBrokers } from './events.settings.js';
import type { Config } from './schema.js';
import { REDIS_URL_DEFAULT } from './storage.settings.js';

const brokers = 'KAFKA_BROKERS (comma-separated host:port), which is empty';

/**
 * Rules across settings, each one line of refusal naming the settings involved and what would be
 * accepted; checked in this order, the first broken one refuses the configuration.
 */
const rules: ((config: Config) => string | undefined)[] = [
  (config) =>
    config.EVENT_BUS === 'kafka' && kafkaBrokers(config).length === 0
      ? `EVENT_BUS="kafka" needs ${brokers}`
      : undefined,
  (config) =>
    config.QUEUE_BACKEND === 'stream' && kafkaBrokers(config).length === 0
      ? `QUEUE_BACKEND="stream" needs ${brokers}`
      : undefined,
  (config) =>
    config.HEADERS_TIMEOUT_MS > config.REQUEST_TIMEOUT_MS
      ? `HEADERS_TIMEOUT_MS=${config.HEADERS_TIMEOUT_MS} is not allowed: expected at most REQUEST_TIMEOUT_MS (${config.REQUEST_TIMEOUT_MS})`
      : undefined,
  (config) =>
    config.MAX_CHARGE_AMOUNT > config.MAX_BALANCE
      ? `MAX_CHARGE_AMOUNT=${config.MAX_CHARGE_AMOUNT} is not allowed: expected at most MAX_BALANCE (${config.MAX_BALANCE})`
      : undefined,
  // The fence that stops a paid token from paying again is purged after RETENTION_HOURS.
  (config) =>
    config.RETENTION_HOURS * 3600 < config.ACTIVE_TOKEN_TTL_SECONDS + config.SEAT_HOLD_TTL_SECONDS
      ? `RETENTION_HOURS=${config.RETENTION_HOURS} is not allowed: expected at least a token's longest life, ACTIVE_TOKEN_TTL_SECONDS + SEAT_HOLD_TTL_SECONDS (${config.ACTIVE_TOKEN_TTL_SECONDS + config.SEAT_HOLD_TTL_SECONDS} s)`
      : undefined,
  (config) =>
    config.JWT_SECRET !== '' && config.JWT_SECRET.length < 32
      ? `JWT_SECRET has ${config.JWT_SECRET.length} characters: expected at least 32 characters (openssl rand -hex 32 makes one)`
      : undefined,
  (config) =>
    config.OPERATOR_KEY !== '' && config.OPERATOR_KEY.length < 32
      ? `OPERATOR_KEY has ${config.OPERATOR_KEY.length} characters: expected at least 32 characters (openssl rand -base64 32 makes one)`
      : undefined,
  (config) =>
    config.POW_SECRET !== '' && config.POW_SECRET.length < 32
      ? `POW_SECRET has ${config.POW_SECRET.length} characters: expected at least 32 characters (openssl rand -base64 32 makes one)`
      : undefined,
  (config) =>
    config.METRICS_KEY !== '' && config.METRICS_KEY.length < 32
      ? `METRICS_KEY has ${config.METRICS_KEY.length} characters: expected at least 32 characters (openssl rand -base64 32 makes one)`
      : undefined,
  (config) => {
    if (config.AUTH_MODE !== 'jwt') return undefined;
    const hasKey =
      config.JWT_ALGORITHM === 'HS256'
        ? config.JWT_SECRET !== ''
        : config.JWT_PUBLIC_KEY_FILE !== '' || config.JWT_JWKS_FILE !== '';
    return hasKey
      ? undefined
      : `AUTH_MODE="jwt" with JWT_ALGORITHM="${config.JWT_ALGORITHM}" needs ${config.JWT_ALGORITHM === 'HS256' ? 'JWT_SECRET (at least 32 characters)' : 'JWT_PUBLIC_KEY_FILE or JWT_JWKS_FILE'}, which is empty`;
  },
  (config) =>
    config.AUTH_MODE === 'client-id' &&
    config.NODE_ENV === 'production' &&
    !config.ALLOW_CLIENT_ID_AUTH
      ? 'AUTH_MODE="client-id" (the default) trusts any caller to name any user: refused with NODE_ENV="production"; expected AUTH_MODE=jwt, or ALLOW_CLIENT_ID_AUTH=true to accept the risk'
      : undefined,
  (config) =>
    config.NODE_ENV === 'production' &&
    config.DATABASE_URL === '' &&
    !config.ALLOW_EMBEDDED_DATABASE
      ? 'NODE_ENV="production" needs a PostgreSQL server, and DATABASE_URL is empty (the embedded PGlite ' +
        'database): expected DATABASE_URL=postgres://user:password@host:5432/overture, or ' +
        'ALLOW_EMBEDDED_DATABASE=true to run production on PGlite anyway (one process, one ' +
        'connection: for development and demos)'
      : undefined,
  (config) =>
    config.WORKERS !== '1' && config.DATABASE_URL === ''
      ? `WORKERS=${config.WORKERS} runs several processes, and DATABASE_URL is empty (the embedded PGlite database, which one process holds): expected WORKERS=1, or DATABASE_URL=postgres://user:password@host:5432/overture`
      : undefined,
  (config) =>
    config.DATABASE_SESSION_URL !== '' && config.DATABASE_URL === ''
      ? 'DATABASE_SESSION_URL is set, and DATABASE_URL is empty (the embedded PGlite database, which has no sessions to keep apart): expected DATABASE_URL to name the same PostgreSQL server, or DATABASE_SESSION_URL empty'
      : undefined,
  (config) =>
    config.REDIS_CLUSTER_NODES !== '' && config.REDIS_URL !== REDIS_URL_DEFAULT
      ? `REDIS_CLUSTER_NODES is set (a Redis Cluster), and so is REDIS_URL (one Redis): expected one of them — REDIS_CLUSTER_NODES=host:port,... for a cluster, or REDIS_URL alone for one Redis`
      : undefined,
];

/** The first rule across settings that `config` breaks, in words, or undefined when none. */
export function crossSettingProblem(config: Config): string | undefined {
  for (const rule of rules) {
    const problem = rule(config);
    if (problem !== undefined) return problem;
  }
  return undefined;
}
