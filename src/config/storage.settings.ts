import { Type } from 'typebox';
import { KEY_PREFIX_PATTERN } from '../redis/keys.js';
import { int } from './setting.js';

/** PostgreSQL, or the embedded PGlite database, and its demo data. */
export const databaseSettings = {
  DATABASE_URL: Type.String({
    default: '',
    description: 'PostgreSQL connection string. Empty: the embedded PGlite database.',
  }),
  DATABASE_SESSION_URL: Type.String({
    default: '',
    description:
      "Connection string for the connections that keep a session: the migrations' lock and each instance's presence lock (outbox relay leases). Empty: DATABASE_URL. Set it to a direct or session-mode address when DATABASE_URL goes through a transaction-mode pooler (docs/deployment.md).",
  }),
  DB_POOL_SIZE: int(10, 1, 500, 'Connections in the pg pool (real PostgreSQL only).'),
  DB_NAMED_STATEMENTS: Type.Boolean({
    default: true,
    description:
      'The hot statements run as named prepared statements, planned once per connection (real PostgreSQL only). false: parsed and planned on every call, for a transaction-mode pooler that cannot keep them (PgBouncer before 1.21).',
  }),
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
  SEED_DEMO_CATALOGUE: Type.Boolean({
    default: true,
    description:
      'With SEED_DEMO_DATA: the demo venues and their three concerts too (the test suite and the bench keep to the five simple concerts).',
  }),
  SEED_DEMO_DATA: Type.Boolean({
    default: true,
    description:
      'Load the demo data (five simple concerts, two venues with three concerts: on sale, opening five minutes after this first start, sold out) when the database has no concert. With NODE_ENV=production the default is false.',
  }),
};

/** How long finished records are kept. */
export const retentionSettings = {
  RETENTION_HOURS: int(
    24,
    1,
    8_760,
    'Expired tokens, idempotency keys, sent events and the records of delivered ones (which keep an event published again from being sent again) older than this are purged.',
  ),
};

const CLUSTER_NODE = '(\\[[0-9A-Fa-f:.]+\\]|[A-Za-z0-9_.-]+):[0-9]{1,5}';
/** '' or `host:port` separated by commas (an IPv6 host in brackets). */
const REDIS_CLUSTER_NODES_PATTERN = `^$|^${CLUSTER_NODE}(,${CLUSTER_NODE})*$`;

export const REDIS_URL_DEFAULT = 'redis://127.0.0.1:6379';

/** The Redis server, when a setting uses it. */
export const redisSettings = {
  REDIS_URL: Type.String({
    default: REDIS_URL_DEFAULT,
    minLength: 1,
    description:
      'Redis connection string (used when QUEUE_BACKEND=redis or stream, or EVENT_BUS=redis), unless REDIS_CLUSTER_NODES names a Redis Cluster.',
  }),
  REDIS_CLUSTER_NODES: Type.String({
    default: '',
    pattern: REDIS_CLUSTER_NODES_PATTERN,
    description:
      'Comma-separated host:port of some Redis Cluster nodes: when set, the service uses the Redis Cluster (ioredis Cluster client) instead of REDIS_URL, which must then be left unset. Each waiting room, the house room, the events bus and the rate limits are each one hash slot; rooms spread over the primaries (decision 0059).',
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
};
