import type { Logger } from 'pino';
import type { Config } from './config.js';
import type { Database } from './db/client.js';
import { createPostgresBalanceStore } from './modules/balance/balance.store.postgres.js';
import type { BalanceStore } from './modules/balance/balance.store.js';
import { createConcertService, type ConcertService } from './modules/concerts/concerts.service.js';
import { createPostgresConcertStore } from './modules/concerts/concerts.store.postgres.js';
import { createHoldService, type HoldService } from './modules/holds/holds.service.js';
import { createPostgresHoldStore } from './modules/holds/holds.store.postgres.js';
import { createQueueService, type QueueService } from './modules/queue/queue.service.js';
import { createPostgresQueueStore } from './modules/queue/queue.store.postgres.js';
import { rankingConsumer } from './modules/ranking/ranking.consumer.js';
import {
  createReservationService,
  type ReservationService,
} from './modules/reservations/reservations.service.js';
import { createPostgresReservationStore } from './modules/reservations/reservations.store.postgres.js';
import { createAdmission, type Admission } from './workers/admission.worker.js';
import type { Loop, Worker } from './workers/loop.js';
import { createOutboxDispatcher } from './workers/outbox.dispatcher.js';

export interface Container {
  config: Config;
  database: Database;
  queue: QueueService;
  holds: HoldService;
  reservations: ReservationService;
  concerts: ConcertService;
  balance: BalanceStore;
  admission: Admission;
  outbox: Loop;
  /** Background work of this instance, started after listening and stopped before the pool closes. */
  workers: Worker[];
}

/** Picks the adapters for the configuration and wires the services. */
export function createContainer(config: Config, database: Database, logger: Logger): Container {
  const queueStore = createPostgresQueueStore(database, {
    maxActive: config.MAX_ACTIVE,
    activeTtlSeconds: config.ACTIVE_TOKEN_TTL_SECONDS,
    idleSeconds: config.WAITING_TOKEN_IDLE_SECONDS,
  });
  const holdStore = createPostgresHoldStore(database, {
    holdTtlSeconds: config.SEAT_HOLD_TTL_SECONDS,
  });
  const admission = createAdmission(queueStore, {
    maxActive: config.MAX_ACTIVE,
    intervalMs: config.ADMISSION_INTERVAL_MS,
    logger,
  });
  const queue = createQueueService({
    store: queueStore,
    holds: holdStore,
    admission,
    idleSeconds: config.WAITING_TOKEN_IDLE_SECONDS,
  });
  const concerts = createConcertService({
    store: createPostgresConcertStore(database),
    queue,
    popularLimit: config.POPULAR_LIMIT,
    popularCacheMs: config.POPULAR_CACHE_MS,
  });
  const outbox = createOutboxDispatcher(database, [rankingConsumer], {
    intervalMs: config.OUTBOX_INTERVAL_MS,
    logger,
    onDelivered: () => concerts.invalidatePopular(),
  });
  return {
    config,
    database,
    queue,
    holds: createHoldService({ store: holdStore, queue }),
    reservations: createReservationService({
      store: createPostgresReservationStore(database),
      queue,
      eventsCommitted: outbox.wake,
    }),
    concerts,
    balance: createPostgresBalanceStore(database, { maxBalance: config.MAX_BALANCE }),
    admission,
    outbox,
    workers: [admission, outbox],
  };
}
