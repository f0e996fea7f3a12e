import type { RedisClient } from './redis/client.js';
import type { Config } from './config.js';
import type { Database } from './db/client.js';
import { createEmbeddedPresence, createPostgresPresence } from './db/presence.js';
import { createPostgresBalanceStore } from './modules/balance/balance.store.postgres.js';
import { createBalanceService, type BalanceService } from './modules/balance/balance.service.js';
import { createConcertService, type ConcertService } from './modules/concerts/concerts.service.js';
import { createPostgresConcertStore } from './modules/concerts/concerts.store.postgres.js';
import { createHoldService, type HoldService } from './modules/holds/holds.service.js';
import { createPostgresHoldStore } from './modules/holds/holds.store.postgres.js';
import { createSeatGate } from './container.holds.js';
import { concertSettings } from './container.concerts.js';
import type { BookingTokens } from './modules/queue/queue.booking.js';
import { createPostgresBookingTokens } from './modules/queue/queue.booking.postgres.js';
import { createRedisBookingTokens } from './modules/queue/queue.booking.redis.js';
import { inWrongRoom } from './modules/queue/queue.rooms.postgres.js';
import type { LivePositions } from './modules/queue/queue.live.js';
import { createStreamLimits, type StreamLimits } from './modules/queue/queue.stream-limits.js';
import { createPostgresQueueStore } from './modules/queue/queue.store.postgres.js';
import { createRedisQueueStore } from './modules/queue/queue.store.redis.js';
import type { QueueStore } from './modules/queue/queue.store.js';
import type { EventBus } from './modules/events/bus.js';
import { createEventBus, createStreamQueue } from './container.transports.js';
import { createDataPlatformConsumer } from './modules/events/data-platform.consumer.js';
import type { DeliveriesStore } from './modules/events/deliveries.store.js';
import { createPostgresDeliveriesStore } from './modules/events/deliveries.store.postgres.js';
import type { EventConsumer } from './modules/events/events.js';
import type { RetryPolicy } from './modules/events/retry.policy.js';
import { createTokenExpiryConsumer } from './modules/queue/queue.token-expiry.consumer.js';
import { createRankingConsumer, loadRanking } from './modules/ranking/ranking.consumer.js';
import { createRankingMirror } from './modules/ranking/ranking.mirror.redis.js';
import {
  createReservationService,
  type ReservationService,
} from './modules/reservations/reservations.service.js';
import { createPostgresReservationStore } from './modules/reservations/reservations.store.postgres.js';
import { createRedisClient } from './redis/client.js';
import { createAuditService, type AuditService } from './modules/audit/audit.service.js';
import { createPostgresAuditLog } from './modules/audit/audit.store.postgres.js';
import type { RoomDirectory, RoomService } from './modules/rooms/rooms.service.js';
import {
  createLive,
  createOpenings,
  createRooms,
  type OpeningQueueService,
} from './container.rooms.js';
import type { ContainerArgs } from './container.pow.js';
import { soldOutAware, withSoldOut } from './modules/queue/queue.soldout.js';
import { createVenueService, type VenueService } from './modules/venues/venues.service.js';
import {
  createCatalogueService,
  type CatalogueService,
} from './modules/concerts/catalogue.service.js';
import { createPostgresCatalogueStore } from './modules/concerts/catalogue.store.postgres.js';
import { createPostgresVenueStore } from './modules/venues/venues.store.postgres.js';
import { createAdmission, type Admission } from './modules/queue/queue.admission.js';
import type { Worker } from './shared/loop.js';
import { createReadiness, type Readiness } from './shared/readiness.js';
import { createConsumers } from './workers/consumers.worker.js';
import { createDeliveryWorker } from './workers/delivery.worker.js';
import { createHousekeeping } from './workers/housekeeping.worker.js';
import { createOutboxRelay, type OutboxRelay } from './workers/outbox.relay.js';
import { createShowCancelWorker } from './workers/show-cancel.worker.js';
import { createMetrics, type Metrics } from './metrics/metrics.js';
import { HOUSE_ROOM } from './shared/metrics.js';

export interface Container {
  config: Config;
  database: Database;
  queue: OpeningQueueService;
  /** Live position streams of this instance (SSE); ended before the server closes. */
  live: LivePositions;
  /** The caps on open live streams per user and per address, and their counts (this instance). */
  streamLimits: StreamLimits;
  holds: HoldService;
  reservations: ReservationService;
  concerts: ConcertService;
  balance: BalanceService;
  admission: Admission;
  /** Operators' waiting rooms, and this instance's copy of their settings. */
  rooms: RoomService;
  roomDirectory: RoomDirectory;
  relay: OutboxRelay;
  deliveries: DeliveriesStore;
  bus: EventBus;
  /** Operators' venues and seat maps, and the audit log of their actions. */
  venues: VenueService;
  /** Operators' concerts on venues, their seats and sale settings. */
  catalogue: CatalogueService;
  audit: AuditService;
  /** Background work of this instance, started after listening and stopped before the pool closes. */
  workers: Worker[];
  /** The shared Redis client when a Redis adapter is configured; quit after the workers stop. */
  redis: RedisClient | undefined;
  /** This instance's Prometheus metrics (METRICS=on), served at GET /metrics. */
  metrics: Metrics | undefined;
  /** What GET /health/ready reads from memory: the workers' runs, the Kafka clients' state. */
  readiness: Readiness;
}

/** How often an instance looks for a show-cancel job, and reservations refunded per transaction. */
const SHOW_CANCEL_INTERVAL_MS = 1_000;
const SHOW_CANCEL_BATCH = 100;

/** How long a scrape waits for the shared stores before it answers without their gauges. */
const METRICS_STORE_TIMEOUT_MS = 2_000;

/** What `npm run dead-letters` works with: the deliveries, each replay audited. */
export const createDeadLetterTools = (database: Database): DeliveriesStore =>
  createPostgresDeliveriesStore(database, createPostgresAuditLog(database));

/** Picks the adapters for the configuration and wires the services. */
export function createContainer(...args: ContainerArgs): Container {
  const [config, database, logger, powSecret = { source: 'none' }] = args;
  const redis =
    config.QUEUE_BACKEND !== 'postgres' || config.EVENT_BUS === 'redis'
      ? createRedisClient({
          url: config.REDIS_URL,
          clusterNodes: config.REDIS_CLUSTER_NODES,
          commandTimeoutMs: config.REDIS_COMMAND_TIMEOUT_MS,
          logger,
        })
      : undefined;
  const presence =
    database.kind === 'pglite'
      ? createEmbeddedPresence()
      : createPostgresPresence(database.sessionUrl, logger);
  // The sources are read on scrape, after everything below exists.
  const metrics =
    config.METRICS === 'on'
      ? createMetrics({
          readStores: async () => {
            const last = admission.last();
            const [outbox, deliveryCounts, house] = await Promise.all([
              relay.lag(),
              deliveries.countByStatus(),
              queueStore.roomStats(0),
            ]);
            return {
              queue: last && {
                waiting: last.waiting,
                active: last.active,
                limit: config.MAX_ACTIVE,
                admissionRate: house.admissionRate / 60,
              },
              outbox,
              deliveries: deliveryCounts,
            };
          },
          reportsStores: () => presence.holds('metrics-stores'),
          pools: database.kind === 'postgres' ? database.poolCounts : undefined,
          redis,
          storeTimeoutMs: METRICS_STORE_TIMEOUT_MS,
          logger,
        })
      : undefined;
  if (metrics && redis) metrics.timeRedis(redis);
  const roomParts = createRooms(config, database, logger, { redis, powSecret });
  const { directory: roomDirectory, service: rooms, soldOut, figures } = roomParts;
  const idleSeconds = config.WAITING_TOKEN_IDLE_SECONDS;
  const queueOptions = {
    maxActive: config.MAX_ACTIVE,
    activeTtlSeconds: config.ACTIVE_TOKEN_TTL_SECONDS,
    idleSeconds,
    rateWindowSeconds: config.ADMISSION_RATE_WINDOW_SECONDS,
  };
  const redisQueueOptions = {
    ...queueOptions,
    keyPrefix: config.REDIS_KEY_PREFIX,
    // Lets tests move the waiting room's clock (src/redis/keys.ts: clock); never in production.
    testClock: config.NODE_ENV === 'test',
    rooms: soldOutAware(roomDirectory, soldOut),
  };
  const streamQueue =
    config.QUEUE_BACKEND === 'stream' && redis
      ? createStreamQueue(config, redis, redisQueueOptions, logger)
      : undefined;
  const redisQueueStore =
    streamQueue?.store ??
    (config.QUEUE_BACKEND === 'redis' && redis
      ? createRedisQueueStore(redis, redisQueueOptions)
      : undefined);
  const queueStore: QueueStore = withSoldOut(
    redisQueueStore ?? createPostgresQueueStore(database, queueOptions),
    soldOut,
    { changed: () => live.wake() },
  );
  // The booking transactions' view of the caller's token: where the waiting room keeps it.
  const bookingTokens: BookingTokens = redisQueueStore
    ? createRedisBookingTokens(redisQueueStore, { idleSeconds, wrongRoom: inWrongRoom })
    : createPostgresBookingTokens({ idleSeconds });
  const holdStore = createPostgresHoldStore(database, {
    holdTtlSeconds: config.SEAT_HOLD_TTL_SECONDS,
    tokens: bookingTokens,
  });
  const live = createLive(config, queueStore, figures, logger, (tokens) => opening.watch(tokens));
  const admission = createAdmission(queueStore, {
    maxActive: config.MAX_ACTIVE,
    intervalMs: config.ADMISSION_INTERVAL_MS,
    logger,
    onChange: (run) => {
      live.wake();
      if (run.admitted > 0) metrics?.admitted(HOUSE_ROOM, run.admitted);
    },
  });
  const { queue, opening } = createOpenings({
    store: queueStore,
    tokens: bookingTokens,
    releaseHolds: (userId) => holdStore.releaseAll(userId),
    admission,
    idleSeconds,
    logger,
    positionsChanged: () => live.wake(),
    rooms: roomDirectory,
    seatsLeft: (concertId) => rooms.seatsLeft(concertId),
    pow: roomParts.pow,
    soldOut: (roomId) => soldOut.has(roomId),
    ...{ config, database, moved: () => (admission.slotFreed(), live.wake()) },
    figures,
  });
  const ranking = redis
    ? createRankingMirror(redis, {
        keyPrefix: config.REDIS_KEY_PREFIX,
        load: () => loadRanking(database),
        logger,
      })
    : undefined;
  const concerts = createConcertService({
    store: createPostgresConcertStore(database),
    queue,
    ...concertSettings(config),
    ranking,
    logger,
  });
  const auditLog = createPostgresAuditLog(database);
  const deliveries = createPostgresDeliveriesStore(database, auditLog);
  const policy: RetryPolicy = {
    maxAttempts: config.EVENT_MAX_ATTEMPTS,
    baseDelayMs: config.EVENT_RETRY_BASE_MS,
    maxDelayMs: config.EVENT_RETRY_MAX_MS,
    horizonMs: config.EVENT_RETRY_HORIZON_MINUTES * 60_000,
  };
  const consumers: EventConsumer[] = [
    createRankingConsumer(database, ranking),
    createTokenExpiryConsumer(queueStore, admission.slotFreed),
    ...(config.DATA_PLATFORM_URL === ''
      ? []
      : [
          createDataPlatformConsumer({
            url: config.DATA_PLATFORM_URL,
            timeoutMs: config.DATA_PLATFORM_TIMEOUT_MS,
            deliveries,
          }),
        ]),
  ];
  const bus = createEventBus(config, redis, logger);
  const relay = createOutboxRelay(database, bus, {
    intervalMs: config.OUTBOX_INTERVAL_MS,
    leaseMs: config.OUTBOX_LEASE_MS,
    presence,
    logger,
  });
  const reservations = createReservationService({
    store: createPostgresReservationStore(database, { tokens: bookingTokens, audit: auditLog }),
    queue,
    eventsCommitted: relay.wake,
    metrics,
    showCancelRequested: () => showCancel.wake(),
  });
  const showCancel = createShowCancelWorker(reservations, {
    intervalMs: SHOW_CANCEL_INTERVAL_MS,
    batchSize: SHOW_CANCEL_BATCH,
    logger,
  });
  const workers: Worker[] = [
    // Places joins from the log; stopped last, after the server took its last join.
    ...(streamQueue ? [streamQueue.worker] : []),
    // Redis keeps nothing across a restart here: rebuild a lost ranking before serving.
    ...(ranking ? [{ start: () => ranking.ensure(), stop: () => Promise.resolve() }] : []),
    // The rooms' settings, reloaded every second; started before admission uses them.
    roomDirectory,
    admission,
    opening,
    live,
    createConsumers(bus, consumers, { deliveries, policy, logger, metrics }),
    createDeliveryWorker(deliveries, consumers, {
      leaseMs: config.DELIVERY_LEASE_MS,
      policy,
      intervalMs: config.DELIVERY_INTERVAL_MS,
      logger,
      metrics,
    }),
    relay,
    // Refunds cancelled shows; its events go out through the relay started before it.
    showCancel,
    createHousekeeping(database, {
      retentionHours: config.RETENTION_HOURS,
      intervalMs: 60_000,
      logger,
    }),
  ];
  const readiness = createReadiness({
    missedRuns: config.READY_WORKER_MISSED_RUNS,
    minStallMs: config.READY_WORKER_MIN_STALL_SECONDS * 1000,
  });
  for (const worker of workers) if (worker.progress) readiness.watch(worker.progress);
  if (streamQueue) readiness.require(() => streamQueue.worker.readiness());
  if (bus.readiness) readiness.require(bus.readiness);
  return {
    config,
    database,
    queue,
    live,
    streamLimits: createStreamLimits({
      perUser: config.SSE_MAX_STREAMS_PER_USER,
      perAddress: config.SSE_MAX_STREAMS_PER_ADDRESS,
    }),
    holds: createHoldService({
      store: holdStore,
      queue,
      gate: createSeatGate(config, redis, logger),
      metrics,
    }),
    reservations,
    concerts,
    balance: createBalanceService({
      store: createPostgresBalanceStore(database, { maxBalance: config.MAX_BALANCE }),
    }),
    admission,
    rooms,
    roomDirectory,
    relay,
    deliveries,
    // Started in this order, stopped in reverse: consumers listen before the relay publishes,
    // and the relay stops publishing before they stop listening.
    workers,
    bus,
    venues: createVenueService({
      store: createPostgresVenueStore(database, { audit: auditLog }),
    }),
    catalogue: createCatalogueService({
      store: createPostgresCatalogueStore(database, { audit: auditLog }),
      defaultHoldSeconds: config.SEAT_HOLD_TTL_SECONDS,
    }),
    audit: createAuditService({ log: auditLog, logger }),
    redis,
    metrics,
    readiness,
  };
}
