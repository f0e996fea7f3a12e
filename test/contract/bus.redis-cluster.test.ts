import { afterAll, beforeAll, describe } from 'vitest';
import {
  clusterToolsInstalled,
  startPrivateRedisCluster,
  type PrivateRedisCluster,
} from '../support/redis-cluster.js';
import { useRedisCluster } from '../support/redis.js';
import { eventBusContract } from './bus.contract.js';
import { redisBusSpace } from './bus.redis.harness.js';

/** The Redis Streams bus's contract, unchanged, on a private three-primary Redis Cluster. */
describe.skipIf(!clusterToolsInstalled)(
  'event bus contract: redis streams on Redis Cluster',
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

    eventBusContract({ durable: true, sharesWork: true, space: redisBusSpace });
  },
);
