import type { Logger } from 'pino';
import type { Config } from './config.js';
import type { Database } from './db/client.js';
import { createPostgresAuditLog } from './modules/audit/audit.store.postgres.js';
import { createRoomFigures, type RoomFigures } from './modules/queue/queue.figures.js';
import { createLivePositions } from './modules/queue/queue.live.js';
import type { QueueStore } from './modules/queue/queue.store.js';
import { createRoomDirectory, createRoomService } from './modules/rooms/rooms.service.js';
import { createPostgresRoomStore } from './modules/rooms/rooms.store.postgres.js';

/**
 * The waiting rooms (docs/rooms.md): the operators' service over the rooms table and this
 * instance's copy of every room's settings, reloaded once a second (docs/decisions/0048).
 */
export function createRooms(config: Config, database: Database, logger: Logger) {
  const store = createPostgresRoomStore(database, { audit: createPostgresAuditLog(database) });
  const directory = createRoomDirectory(store, {
    house: { maxActive: config.MAX_ACTIVE, admissionPerMinute: null, state: 'open' },
    intervalMs: config.ROOM_RELOAD_INTERVAL_MS,
    logger,
  });
  const service = createRoomService({ store, directory, defaultMaxActive: config.MAX_ACTIVE });
  // Seats left are read at most once a second per room, whatever the number of buyers (0058).
  const figures = createRoomFigures({
    seatsLeftOf: (concertIds) => store.seatsLeftOf(concertIds),
    settings: (roomId) => directory.settings(roomId),
    maxAgeMs: SEATS_LEFT_MAX_AGE_MS,
  });
  return { directory, service, figures };
}

/** How old the seats left a waiting buyer sees may be. */
const SEATS_LEFT_MAX_AGE_MS = 1_000;

/** This instance's live position streams, with each room's figures. */
export const createLive = (
  config: Config,
  store: QueueStore,
  figures: RoomFigures,
  logger: Logger,
) =>
  createLivePositions({
    store,
    figures,
    intervalMs: config.SSE_INTERVAL_MS,
    heartbeatMs: config.SSE_HEARTBEAT_MS,
    logger,
  });
