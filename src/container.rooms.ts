import type { RedisClient } from './redis/client.js';
import type { Logger } from 'pino';
import type { Config } from './config.js';
import { createProofOfWork } from './container.pow.js';
import type { Database } from './db/client.js';
import { createPostgresAuditLog } from './modules/audit/audit.store.postgres.js';
import { createRoomFigures, type RoomFigures } from './modules/queue/queue.figures.js';
import { createLivePositions, type PreQueueViews } from './modules/queue/queue.live.js';
import { commitmentOf, newLotterySeed } from './modules/queue/queue.lottery.js';
import { createOpening, withOpening } from './modules/queue/queue.opening.js';
import { createPreQueueStore } from './modules/queue/queue.opening.postgres.js';
import type { PowSecret } from './modules/queue/queue.pow.secret.js';
import { createQueueService, type QueueServiceDeps } from './modules/queue/queue.service.js';
import { createSoldOutRooms } from './modules/queue/queue.soldout.js';
import type { QueueStore } from './modules/queue/queue.store.js';
import {
  createRoomDirectory,
  createRoomService,
  type RoomDirectory,
} from './modules/rooms/rooms.service.js';
import { createPostgresRoomStore } from './modules/rooms/rooms.store.postgres.js';
import { createSaleListing } from './modules/rooms/rooms.listing.js';
import { createPostgresSaleList } from './modules/rooms/rooms.listing.postgres.js';
import { createSnapshots } from './shared/snapshots.js';

/**
 * The waiting rooms (docs/rooms.md): the operators' service over the rooms table, this
 * instance's copy of every room's settings, reloaded once a second (docs/decisions/0048), the
 * sold-out flags (0057) and the proof of work at the door (0051).
 */
export function createRooms(
  config: Config,
  database: Database,
  logger: Logger,
  extra: { redis: RedisClient | undefined; powSecret: PowSecret },
) {
  const store = createPostgresRoomStore(database, {
    audit: createPostgresAuditLog(database),
    lottery: { newLotterySeed, commitmentOf },
  });
  const directory = createRoomDirectory(store, {
    house: { maxActive: config.MAX_ACTIVE, admissionPerMinute: null, state: 'open' },
    intervalMs: config.ROOM_RELOAD_INTERVAL_MS,
    logger,
  });
  const service = createRoomService({
    store,
    directory,
    defaultMaxActive: config.MAX_ACTIVE,
    powAvailable: extra.powSecret.source !== 'none',
    // The buyers' public list: one read per instance per period, whatever the readers (0064).
    listing: createSaleListing({
      read: createPostgresSaleList(database),
      cacheMs: config.SALE_LIST_CACHE_MS,
    }),
  });
  const soldOut = createSoldOutRooms(() => store.soldOutRooms(), logger);
  const pow = createProofOfWork(config, database, extra.redis, extra.powSecret);
  // Seats left are read at most once a second per room, whatever the number of buyers (0058).
  const figures = createRoomFigures({
    seatsLeftOf: (concertIds) => store.seatsLeftOf(concertIds),
    settings: (roomId) => directory.settings(roomId),
    maxAgeMs: SEATS_LEFT_MAX_AGE_MS,
  });
  return { directory, service, soldOut, pow, figures };
}

/** How old the seats left a waiting buyer sees may be. */
const SEATS_LEFT_MAX_AGE_MS = 1_000;

/**
 * Scheduled openings (docs/lottery.md, decision 0056): the pre-queue in PostgreSQL whatever the
 * queue backend, the opening worker (draw and move into the line), and the queue service that
 * sends a room's joins through its pre-queue until the transfer is done.
 */
export function createOpenings(
  deps: QueueServiceDeps & {
    config: Pick<Config, 'ADMISSION_INTERVAL_MS' | 'ROOM_VIEW_CACHE_MS'>;
    database: Database;
    rooms: RoomDirectory;
    logger: Logger;
    /** Entries entered a line: admission and the live positions may act at once. */
    moved: () => void;
  },
) {
  const preQueue = createPreQueueStore(deps.database);
  const opening = createOpening({
    preQueue,
    store: deps.store,
    rooms: deps.rooms,
    // Within a second of opens_at: the admission loop's interval, at most 250 ms.
    intervalMs: Math.min(deps.config.ADMISSION_INTERVAL_MS, 250),
    logger: deps.logger,
    moved: deps.moved,
    soldOut: deps.soldOut,
  });
  const queue = withOpening(createQueueService({ ...deps, opening }), { opening, preQueue });
  // A room's public view counts its line and its pre-queue (O(n) on PostgreSQL): one read per
  // room per ROOM_VIEW_CACHE_MS on this instance, whatever the number of readers (0066).
  const views = createSnapshots(deps.config.ROOM_VIEW_CACHE_MS);
  const room = (concertId: number) => views.value(`room:${concertId}`, () => queue.room(concertId));
  return { opening, queue: { ...queue, room } };
}

export type OpeningQueueService = ReturnType<typeof createOpenings>['queue'];

/** This instance's live position streams, with each room's figures. */
export const createLive = (
  config: Config,
  store: QueueStore,
  figures: RoomFigures,
  logger: Logger,
  preQueue: PreQueueViews,
) =>
  createLivePositions({
    store,
    preQueue,
    figures,
    intervalMs: config.SSE_INTERVAL_MS,
    heartbeatMs: config.SSE_HEARTBEAT_MS,
    logger,
  });
