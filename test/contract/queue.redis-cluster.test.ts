import { describe } from 'vitest';
import { clusterToolsInstalled, usePrivateRedisCluster } from '../support/redis-cluster.js';
import { queueStoreContract } from './queue.contract.js';
import { soldOutFlagsContract } from './queue.soldout.contract.js';
import { openRedisQueueHarness } from './queue.redis.harness.js';

/** The redis backend's contract, unchanged, on a private three-primary Redis Cluster. */
describe.skipIf(!clusterToolsInstalled)(
  'queue store contract: redis backend on Redis Cluster',
  () => {
    usePrivateRedisCluster();

    queueStoreContract(openRedisQueueHarness);
    soldOutFlagsContract(openRedisQueueHarness);
  },
);
