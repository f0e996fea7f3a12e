import { Type } from 'typebox';
import { int } from './setting.js';

/** Events after commit: the outbox relay, the bus, retries and the data platform. */
export const eventSettings = {
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
};

/** KAFKA_BROKERS as a list. */
export const kafkaBrokers = (config: { KAFKA_BROKERS: string }): string[] =>
  config.KAFKA_BROKERS.split(',')
    .map((broker) => broker.trim())
    .filter((broker) => broker !== '');
