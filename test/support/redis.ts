import { randomBytes } from 'node:crypto';
import { Cluster } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, inject } from 'vitest';
import {
  createRedisClient,
  closeRedis,
  redisReady,
  type RedisClient,
} from '../../src/redis/client.js';
import { redisKeys } from '../../src/redis/keys.js';

/** URL of the machine's Redis, or '' (global setup fails the run instead when it is required). */
export const redisUrl = inject('redisUrl');

export const redisAvailable = redisUrl !== '';

/** `describe` for suites that need Redis: skipped loudly (see global setup) without it. */
export const describeWithRedis = describe.skipIf(!redisAvailable);

/**
 * A key prefix of this test's own. It carries the vitest run's pid (the parent of this worker),
 * so global setup can delete what an interrupted run left behind, and random bytes, so files,
 * stores and runs side by side never share a key.
 */
export const testKeyPrefix = (): string =>
  `overture-test-${process.ppid}-${randomBytes(4).toString('hex')}`;

/**
 * REDIS_CLUSTER_NODES of a private cluster this test file started (test/support/redis-cluster.ts),
 * or '' for the machine's Redis: what connectTestRedis connects to.
 */
let clusterNodes = '';

/** From now on, connectTestRedis in this test file connects to the cluster at `nodes` ('' → back). */
export function useRedisCluster(nodes: string): void {
  clusterNodes = nodes;
}

/**
 * A ready client on the test Redis or cluster (same settings as the service's); a cluster client
 * once its connection to every primary is. The bound is generous: a busy CI machine, beside a
 * test's running instances, is slow to answer anything.
 */
export async function connectTestRedis(commandTimeoutMs = 2_000): Promise<RedisClient> {
  const client = createRedisClient({ url: redisUrl, clusterNodes, commandTimeoutMs });
  if (!(await redisReady(client, 15_000))) {
    const primaries =
      client instanceof Cluster
        ? client.nodes('master').map((node) => `${node.options.port}: ${node.status}`)
        : [];
    client.disconnect();
    throw new Error(
      `Redis at ${clusterNodes || redisUrl} is not ready (${[client.status, ...primaries].join(', ')})`,
    );
  }
  return client;
}

/** Deletes every key of one prefix — never anything else: other people's tests share this Redis. */
export async function deletePrefix(client: RedisClient, prefix: string): Promise<number> {
  const { pattern } = redisKeys(prefix);
  let deleted = 0;
  // On a cluster, every primary holds some of the keys, in slots of their own: one by one.
  for (const node of client instanceof Cluster ? client.nodes('master') : [client]) {
    let cursor = '0';
    do {
      const [next, keys] = await node.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
      cursor = next;
      if (keys.length === 0) continue;
      if (node === client) deleted += await node.unlink(...keys);
      else for (const key of keys) deleted += await node.unlink(key);
    } while (cursor !== '0');
  }
  return deleted;
}

/**
 * For a suite on the test Redis: one client for the whole suite (`client`, once `beforeAll` ran)
 * and fresh key prefixes (`prefix()`) whose keys are deleted after each test. Call it inside the
 * suite's `describe`.
 */
export function useTestRedis(): { readonly client: RedisClient; prefix: () => string } {
  let client: RedisClient | undefined;
  const prefixes: string[] = [];
  beforeAll(async () => {
    client = await connectTestRedis();
  });
  afterEach(async () => {
    for (const prefix of prefixes.splice(0)) if (client) await deletePrefix(client, prefix);
  });
  afterAll(async () => {
    if (client) await closeRedis(client);
  });
  return {
    get client() {
      if (!client) throw new Error('the test Redis client is connected in beforeAll');
      return client;
    },
    prefix() {
      const prefix = testKeyPrefix();
      prefixes.push(prefix);
      return prefix;
    },
  };
}

/** Moves the waiting room's clock of one prefix forward (stores built with testClock read it). */
export async function travelRedis(
  client: RedisClient,
  prefix: string,
  seconds: number,
): Promise<void> {
  // The house room's clock, and each room's that has tokens (rooms keep their own clock key).
  const keys = redisKeys(prefix);
  const rooms = (await client.zrange(keys.roomsWithWork, '0', '-1')).map(Number);
  for (const roomId of [0, ...rooms])
    await client.incrby(keys.room(roomId).clock, Math.round(seconds * 1000));
}

export { closeRedis };
