import type { RedisClient } from './redis/client.js';
import type { Logger } from 'pino';
import type { Config } from './config.js';
import { createProofOfWork } from './container.pow.js';
import type { Database } from './db/client.js';
import { createPostgresAuditLog } from './modules/audit/audit.store.postgres.js';
import type { PowSecret } from './modules/queue/queue.pow.secret.js';
import { createSoldOutRooms } from './modules/queue/queue.soldout.js';
import { createRoomDirectory, createRoomService } from './modules/rooms/rooms.service.js';
import { createPostgresRoomStore } from './modules/rooms/rooms.store.postgres.js';

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
  const store = createPostgresRoomStore(database, { audit: createPostgresAuditLog(database) });
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
  });
  const soldOut = createSoldOutRooms(() => store.soldOutRooms(), logger);
  const pow = createProofOfWork(config, database, extra.redis, extra.powSecret);
  return { directory, service, soldOut, pow };
}
