import { Cluster, Redis, type ClusterNode } from 'ioredis';
import type { Logger } from 'pino';

/** What the service talks to: one Redis (REDIS_URL) or a Redis Cluster (REDIS_CLUSTER_NODES). */
export type RedisClient = Redis | Cluster;

export interface RedisClientOptions {
  url: string;
  /** `host:port,...` of some cluster nodes: when non-empty, a Cluster client instead of `url`'s. */
  clusterNodes?: string;
  /** Every command fails after this long without a reply (the caller answers 503). */
  commandTimeoutMs: number;
  logger?: Logger;
}

/**
 * One shared client per process. Commands issued in the same tick go out as one pipeline
 * (enableAutoPipelining), so concurrent requests share round trips. Nothing waits for Redis
 * without a bound: while disconnected, commands fail at once instead of piling up in an offline
 * queue; a command in flight when the connection drops survives one reconnect at most; every
 * command has a timeout. Reconnecting itself never gives up (with capped backoff), so the process
 * recovers on its own when Redis returns.
 */
export function createRedisClient(options: RedisClientOptions): RedisClient {
  const retryStrategy = (attempt: number) => Math.min(50 * 2 ** Math.min(attempt, 6), 2_000);
  const nodeOptions = {
    commandTimeout: options.commandTimeoutMs,
    connectTimeout: Math.max(1_000, options.commandTimeoutMs * 2),
    maxRetriesPerRequest: 1,
    connectionName: 'overture',
  };
  const nodes = parseClusterNodes(options.clusterNodes ?? '');
  const client: RedisClient =
    nodes.length > 0
      ? // A Cluster client: each command goes to the primary of its keys' slot, pipelines are
        // split per node, and the slot map is refreshed on MOVED/ASK and after a node fails.
        new Cluster(nodes, {
          enableAutoPipelining: true,
          enableOfflineQueue: false,
          clusterRetryStrategy: retryStrategy,
          // A primary restarting: retry its slots for a moment rather than fail at once.
          retryDelayOnClusterDown: 100,
          retryDelayOnFailover: 100,
          // Bounds a call's retries while the cluster is down (about 0.6 s of CLUSTERDOWN, then 503).
          maxRedirections: 6,
          slotsRefreshTimeout: Math.max(1_000, options.commandTimeoutMs * 2),
          redisOptions: nodeOptions,
        })
      : new Redis(options.url, {
          ...nodeOptions,
          enableAutoPipelining: true,
          enableOfflineQueue: false,
          retryStrategy,
        });
  // A Cluster opens a primary's connection at its first command and, with the offline queue off,
  // refuses that primary's commands until the connection is up ("Connection is closed": a 503 for
  // the first burst after a start or a failover). Open each one as soon as the cluster is ready,
  // and each one the slot map names after that. Not before: the ready check's CLUSTER INFO goes to
  // some node, and one still connecting refuses it the same way — the client would then start over
  // after a backoff (0.8–1.7 s to ready on a busy machine, more than 5 s in CI).
  if (client instanceof Cluster) {
    const open = (node: Redis) => {
      if (node.status === 'wait' && !node.options.readOnly) node.connect().catch(() => undefined);
    };
    client.on('ready', () => client.nodes('master').forEach(open));
    client.on('+node', (node: Redis) => {
      if (client.status === 'ready') open(node);
    });
  }
  // One log line per outage, not one per reconnect attempt.
  let failing = false;
  client.on('error', (error: Error) => {
    if (failing) return;
    failing = true;
    options.logger?.warn(
      { err: error },
      'redis unavailable; queue calls answer 503 until it returns',
    );
  });
  client.on('ready', () => {
    if (failing) options.logger?.info('redis available again');
    failing = false;
  });
  return client;
}

/**
 * Resolves true once the client is ready (a Cluster: and its connection to every primary), or
 * false after `timeoutMs` or at the first failed connection attempt (the process then starts
 * anyway and answers 503 until Redis is back).
 */
export async function redisReady(client: RedisClient, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  if (!(await connectionReady(client, timeoutMs))) return false;
  if (!(client instanceof Cluster)) return true;
  // A primary's connection that fails is dropped and made anew (and opened by the '+node' listener
  // above): read the pool again until every primary's connection is up.
  for (;;) {
    const primaries = client.nodes('master');
    if (primaries.length > 0 && primaries.every((node) => node.status === 'ready')) return true;
    if (Date.now() >= deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

function connectionReady(client: RedisClient, timeoutMs: number): Promise<boolean> {
  if (client.status === 'ready') return Promise.resolve(true);
  return new Promise((resolve) => {
    const done = (ready: boolean) => {
      clearTimeout(timer);
      client.off('ready', onReady);
      client.off('error', onError);
      resolve(ready);
    };
    const onReady = () => done(true);
    const onError = () => done(false);
    const timer = setTimeout(() => done(false), timeoutMs);
    client.on('ready', onReady);
    client.on('error', onError);
  });
}

/**
 * Why this client cannot serve, if it is one Redis (REDIS_URL) on a node of a Redis Cluster: it
 * would answer MOVED for most keys, each a 503, for as long as it runs.
 */
export async function clusterMismatch(client: RedisClient): Promise<string | undefined> {
  if (client instanceof Cluster) return undefined;
  // A Redis that cannot answer INFO now (slow, or INFO renamed away) is not judged: start as before.
  const info = await client.info('cluster').catch(() => '');
  if (!/^cluster_enabled:1\b/m.test(info)) return undefined;
  return 'REDIS_URL points at a node of a Redis Cluster: set REDIS_CLUSTER_NODES=host:port,... (some of its nodes) instead of REDIS_URL';
}

/** Sends QUIT (lets pending replies arrive); drops the connection if Redis does not answer. */
export async function closeRedis(client: RedisClient, timeoutMs = 1_000): Promise<void> {
  if (client.status === 'end') return;
  if (client.status !== 'ready') {
    client.disconnect();
    return;
  }
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, timeoutMs);
  });
  await Promise.race([
    client.quit().then(
      () => undefined,
      () => undefined,
    ),
    timeout,
  ]);
  clearTimeout(timer);
  client.disconnect();
}

/** `host:port,...` (REDIS_CLUSTER_NODES) as ioredis' cluster start-up nodes; '' → none. */
export function parseClusterNodes(list: string): ClusterNode[] {
  return list
    .split(',')
    .map((entry) => entry.trim())
    .filter((entry) => entry !== '')
    .map((entry) => {
      const at = entry.lastIndexOf(':');
      return {
        host: entry.slice(0, at).replace(/^\[|\]$/g, ''),
        port: Number(entry.slice(at + 1)),
      };
    });
}

/**
 * A second connection like `client` (same server or cluster, same settings) with `overrides`
 * for its node connections: for blocking reads and subscriptions, which must not share the
 * client's connection.
 */
export function duplicateRedis(
  client: RedisClient,
  overrides: Partial<Redis['options']> = {},
): RedisClient {
  if (client instanceof Cluster) {
    const { enableOfflineQueue, enableAutoPipelining, ...node } = overrides;
    return client.duplicate(undefined, {
      ...(enableOfflineQueue === undefined ? {} : { enableOfflineQueue }),
      ...(enableAutoPipelining === undefined ? {} : { enableAutoPipelining }),
      redisOptions: { ...client.options.redisOptions, ...node },
    });
  }
  return client.duplicate(overrides);
}

/** Client-side failures of ioredis that mean "Redis is not answering right now". */
const unavailableMessages = [
  'Command timed out',
  "Stream isn't writeable",
  'Connection is closed',
  'Reached the max retries per request limit',
  'None of startup nodes is available',
  'Failed to refresh slots cache',
  "Cluster isn't ready",
  'Cluster is disconnected',
  'Too many Cluster redirections',
  // Auto-pipelining on a Cluster while its slot map is being refreshed (a primary restarting):
  // commands of one slot momentarily map to no node. On a settled cluster every script's and
  // pipeline's keys share one hash tag (src/redis/keys.ts), so it cannot come from the keys.
  'All keys in the pipeline should belong to the same slots allocation group',
];

/**
 * Redis replies that mean "Redis cannot do work right now" (loading, busy script, failover, OOM).
 * NOSCRIPT: a cluster primary restarted without its script cache while a pipeline of EVALSHA was
 * being retried (ioredis re-sends it as EVALSHA; the next call loads the script again).
 * MOVED/ASK: a redirection ioredis did not follow — an auto-pipelined command while a restarted
 * primary and the client's slot map disagree (seen as a 500 in the cluster restart test under
 * load); the next command, after the slot map is refreshed, goes to the right node.
 */
const unavailableReplies =
  /^(LOADING|BUSY|MASTERDOWN|CLUSTERDOWN|TRYAGAIN|READONLY|OOM|NOREPLICAS|NOSCRIPT|MOVED|ASK)\b/;

/** Whether an error means Redis is down, unreachable, too slow or refusing work: answered as 503. */
export function isRedisUnavailable(error: unknown): boolean {
  let current: unknown = error;
  for (let depth = 0; depth < 5 && typeof current === 'object' && current !== null; depth++) {
    const { name, message } = current as { name?: unknown; message?: unknown };
    if (name === 'MaxRetriesPerRequestError' || name === 'ClusterAllFailedError') return true;
    if (typeof message === 'string') {
      if (unavailableMessages.some((text) => message.startsWith(text))) return true;
      if (name === 'ReplyError' && unavailableReplies.test(message)) return true;
    }
    current = (current as { cause?: unknown }).cause;
  }
  return false;
}
