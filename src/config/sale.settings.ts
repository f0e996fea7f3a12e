import { Type } from 'typebox';
import { int } from './setting.js';

/** The seed's constants: the waiting room, holds, balances, the popular list. */
export const saleSettings = {
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
  ROOM_RELOAD_INTERVAL_MS: int(
    500,
    50,
    1_000,
    'How often each instance reloads the rooms whose settings changed (docs/rooms.md); at most 1 s, so a change is in effect everywhere within a second.',
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
  SALE_LIST_CACHE_MS: int(
    1000,
    0,
    60_000,
    'How long an instance answers every buyer the public concert list (GET /api/v1/queue/rooms) from one read (docs/decisions/0064); 0: each request reads.',
  ),
  ROOM_VIEW_CACHE_MS: int(
    250,
    0,
    10_000,
    "How long an instance answers every reader a room's public view (GET /api/v1/queue/rooms/{concertId}: line, active, pre-queue, seats left) from one read (docs/decisions/0066); 0: each request reads.",
  ),
  SEAT_MAP_CACHE_MS: int(
    1000,
    0,
    10_000,
    'How long an instance answers every buyer a seat map (sections, seats) from one snapshot, with an ETag for 304 replies (docs/decisions/0061); 0: each read queries the database, no ETag.',
  ),
};

/** Where the waiting room lives, and the Kafka log of QUEUE_BACKEND=stream. */
export const queueBackendSettings = {
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
};

/** Live positions (server-sent events) and the estimate behind them. */
export const liveSettings = {
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
};

/** The per-seat gate in front of the hold transaction. */
export const seatGateSettings = {
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
};
