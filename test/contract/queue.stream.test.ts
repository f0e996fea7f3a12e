import { afterAll, beforeAll } from 'vitest';
import { createRedisBookingTokens } from '../../src/modules/queue/queue.booking.redis.js';
import { describeWithKafka, startKafkaMock, type KafkaMock } from '../support/kafka.js';
import { describeWithRedis } from '../support/redis.js';
import { closeSpares, openStreamRoom } from '../support/stream-queue.js';
import { queueStoreContract } from './queue.contract.js';

describeWithRedis('queue store contract: stream backend', () => {
  describeWithKafka('(Kafka log on a mock cluster, Redis waiting room)', () => {
    let mock: KafkaMock;
    beforeAll(async () => {
      mock = await startKafkaMock([]);
    });
    afterAll(async () => {
      if (mock) await closeSpares(mock);
      await mock?.stop();
    });

    queueStoreContract(async (options) => {
      // Joins wait for their placement here as in production, with room for a loaded machine:
      // the contract checks the places a join answers with (0011: provisional places otherwise).
      const room = await openStreamRoom(mock, { ...options, applyWaitMs: 10_000 });
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
    });
  });
});
