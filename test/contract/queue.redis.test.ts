import { describeWithRedis } from '../support/redis.js';
import { queueStoreContract } from './queue.contract.js';
import { soldOutFlagsContract } from './queue.soldout.contract.js';
import { openRedisQueueHarness } from './queue.redis.harness.js';

describeWithRedis('queue store contract: redis backend', () => {
  queueStoreContract(openRedisQueueHarness);
  soldOutFlagsContract(openRedisQueueHarness);
});
