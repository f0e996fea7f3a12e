import type { Redis } from 'ioredis';
import { createRedisBookingTokens } from '../../src/modules/queue/queue.booking.redis.js';
import { createRedisQueueStore } from '../../src/modules/queue/queue.store.redis.js';
import {
  closeRedis,
  connectTestRedis,
  deletePrefix,
  describeWithRedis,
  testKeyPrefix,
  travelRedis,
} from '../support/redis.js';
import { queueStoreContract } from './queue.contract.js';

describeWithRedis('queue store contract: redis backend', () => {
  queueStoreContract(async (options) => {
    // A prefix of this store's own on the shared Redis; time moves through its test clock key.
    const prefix = testKeyPrefix();
    const clients: Redis[] = [];
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
  });
});
