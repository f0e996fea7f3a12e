import { describe } from 'vitest';
import { clusterToolsInstalled, usePrivateRedisCluster } from '../support/redis-cluster.js';
import { eventBusContract } from './bus.contract.js';
import { redisBusSpace } from './bus.redis.harness.js';

/** The Redis Streams bus's contract, unchanged, on a private three-primary Redis Cluster. */
describe.skipIf(!clusterToolsInstalled)(
  'event bus contract: redis streams on Redis Cluster',
  () => {
    usePrivateRedisCluster();

    eventBusContract({ durable: true, sharesWork: true, space: redisBusSpace });
  },
);
