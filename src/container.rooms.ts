import type { Logger } from 'pino';
import type { Config } from './config.js';
import type { Database } from './db/client.js';
import { createPostgresAuditLog } from './modules/audit/audit.store.postgres.js';
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
  return { directory, service };
}
