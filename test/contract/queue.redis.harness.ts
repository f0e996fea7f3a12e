import { createRedisBookingTokens } from '../../src/modules/queue/queue.booking.redis.js';
import { createRedisQueueStore } from '../../src/modules/queue/queue.store.redis.js';
import type { RedisClient } from '../../src/redis/client.js';
import type { KafkaMock } from '../support/kafka.js';
import {
  closeRedis,
  connectTestRedis,
  deletePrefix,
  testKeyPrefix,
  travelRedis,
} from '../support/redis.js';
import { openStreamRoom } from '../support/stream-queue.js';
import type { OpenQueueHarness } from './queue.contract.js';

/**
 * The queue contract's harness on the redis backend, on whatever connectTestRedis connects to
 * (the machine's Redis, or a private cluster: test/support/redis.ts useRedisCluster).
 */
export const openRedisQueueHarness: OpenQueueHarness = async (options) => {
  // A prefix of this store's own on the shared Redis; time moves through its test clock key.
  const prefix = testKeyPrefix();
  const clients: RedisClient[] = [];
  const open = async () => {
    const client = await connectTestRedis();
    clients.push(client);
    return createRedisQueueStore(client, { ...options, keyPrefix: prefix, testClock: true });
  };
  const store = await open();
  const tokens = createRedisBookingTokens(store, options);
  const [client] = clients;
  return {
    store,
    instance: open,
    travel: (seconds) => travelRedis(client!, prefix, seconds),
    // What the booking tokens do after the hold's transaction commits.
    holdTaken: (record, holdExpiresAt, concertId) =>
      tokens.holdTaken(record, holdExpiresAt, concertId),
    holdReleased: (record) => tokens.holdReleased(record),
    // Room settings come from options.rooms (the instance's copy), nothing to store.
    saveRooms: () => Promise.resolve(),
    async close() {
      await deletePrefix(client!, prefix);
      for (const each of clients) await closeRedis(each);
    },
  };
};

/** The queue contract's harness on the stream backend: a Kafka log on `mock()`, Redis as above. */
export const openStreamQueueHarness =
  (mock: () => KafkaMock): OpenQueueHarness =>
  async (options) => {
    // Joins wait for their placement here as in production, with room for a loaded machine:
    // the contract checks the places a join answers with (0011: provisional places otherwise).
    const room = await openStreamRoom(mock(), { ...options, applyWaitMs: 10_000 });
    const { queue } = await room.open();
    const tokens = createRedisBookingTokens(queue.store, options);
    return {
      store: queue.store,
      instance: async () => (await room.open()).queue.store,
      travel: (seconds) => room.travel(seconds),
      // What the booking tokens do after the hold's transaction commits.
      holdTaken: (record, holdExpiresAt, concertId) =>
        tokens.holdTaken(record, holdExpiresAt, concertId),
      holdReleased: (record) => tokens.holdReleased(record),
      // Room settings come from options.rooms (the instance's copy), nothing to store.
      saveRooms: () => Promise.resolve(),
      close: () => room.close(),
    };
  };
