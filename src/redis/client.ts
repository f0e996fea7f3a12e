import { Redis } from 'ioredis';
import type { Logger } from 'pino';

export interface RedisClientOptions {
  url: string;
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
export function createRedisClient(options: RedisClientOptions): Redis {
  const client = new Redis(options.url, {
    enableAutoPipelining: true,
    commandTimeout: options.commandTimeoutMs,
    connectTimeout: Math.max(1_000, options.commandTimeoutMs * 2),
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    retryStrategy: (attempt) => Math.min(50 * 2 ** Math.min(attempt, 6), 2_000),
    connectionName: 'overture',
  });
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
 * Resolves true once the client is ready, or false after `timeoutMs` or at the first failed
 * connection attempt (the process then starts anyway and answers 503 until Redis is back).
 */
export function redisReady(client: Redis, timeoutMs: number): Promise<boolean> {
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

/** Sends QUIT (lets pending replies arrive); drops the connection if Redis does not answer. */
export async function closeRedis(client: Redis, timeoutMs = 1_000): Promise<void> {
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

/** Client-side failures of ioredis that mean "Redis is not answering right now". */
const unavailableMessages = [
  'Command timed out',
  "Stream isn't writeable",
  'Connection is closed',
  'Reached the max retries per request limit',
  'None of startup nodes is available',
  'Failed to refresh slots cache',
];

/** Redis replies that mean "Redis cannot do work right now" (loading, busy script, failover, OOM). */
const unavailableReplies =
  /^(LOADING|BUSY|MASTERDOWN|CLUSTERDOWN|TRYAGAIN|READONLY|OOM|NOREPLICAS)\b/;

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
