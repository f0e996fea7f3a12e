import { afterAll, beforeAll, describe } from 'vitest';
import { describeWithKafka, startKafkaMock, type KafkaMock } from '../support/kafka.js';
import {
  clusterToolsInstalled,
  startPrivateRedisCluster,
  type PrivateRedisCluster,
} from '../support/redis-cluster.js';
import { useRedisCluster } from '../support/redis.js';
import { closeSpares } from '../support/stream-queue.js';
import { queueStoreContract } from './queue.contract.js';
import { soldOutFlagsContract } from './queue.soldout.contract.js';
import { openStreamQueueHarness } from './queue.redis.harness.js';

/** The stream backend's contract, unchanged, with its waiting room on a private Redis Cluster. */
describe.skipIf(!clusterToolsInstalled)(
  'queue store contract: stream backend on Redis Cluster',
  () => {
    describeWithKafka(
      '(Kafka log on a mock cluster, waiting room on a three-primary cluster)',
      () => {
        let mock: KafkaMock;
        let cluster: PrivateRedisCluster;
        beforeAll(async () => {
          [mock, cluster] = await Promise.all([startKafkaMock([]), startPrivateRedisCluster()]);
          useRedisCluster(cluster.nodes);
        });
        afterAll(async () => {
          if (mock) await closeSpares(mock);
          await mock?.stop();
          useRedisCluster('');
          await cluster?.dispose();
        });

        queueStoreContract(openStreamQueueHarness(() => mock));
        soldOutFlagsContract(openStreamQueueHarness(() => mock));
      },
    );
  },
);
