import { afterAll, beforeAll } from 'vitest';
import { describeWithKafka, startKafkaMock, type KafkaMock } from '../support/kafka.js';
import { describeWithRedis } from '../support/redis.js';
import { closeSpares } from '../support/stream-queue.js';
import { queueStoreContract } from './queue.contract.js';
import { soldOutFlagsContract } from './queue.soldout.contract.js';
import { openStreamQueueHarness } from './queue.redis.harness.js';

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

    queueStoreContract(openStreamQueueHarness(() => mock));
    soldOutFlagsContract(openStreamQueueHarness(() => mock));
  });
});
