import { afterAll, beforeAll, describe } from 'vitest';
import {
  clusterToolsInstalled,
  startPrivateRedisCluster,
  type PrivateRedisCluster,
} from '../support/redis-cluster.js';
import { useRedisCluster } from '../support/redis.js';
import { queueStoreContract } from './queue.contract.js';
import { openRedisQueueHarness } from './queue.redis.harness.js';

/** The redis backend's contract, unchanged, on a private three-primary Redis Cluster. */
describe.skipIf(!clusterToolsInstalled)(
  'queue store contract: redis backend on Redis Cluster',
  () => {
    let cluster: PrivateRedisCluster;
    beforeAll(async () => {
      cluster = await startPrivateRedisCluster();
      useRedisCluster(cluster.nodes);
    });
    afterAll(async () => {
      useRedisCluster('');
      await cluster?.dispose();
    });

    queueStoreContract(openRedisQueueHarness);
  },
);
