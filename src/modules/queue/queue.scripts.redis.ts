import type { RedisClient } from '../../redis/client.js';
import { queueKeyOrder, redisKeys, type QueueKeys } from '../../redis/keys.js';
import { luaSource } from '../../redis/scripts.js';
import { roomOfToken } from '../../shared/ids.js';
import type { TokenStatus } from './queue.rules.js';
import type { TokenRecord } from './queue.store.js';

// The queue scripts' common ground, for the redis and stream stores (and the bench's floor route).

const DEFAULT_EXPIRED_RETENTION_SECONDS = 3_600;

export interface QueueScriptOptions {
  /** Key prefix (see src/redis/keys.ts); tests give each store its own. */
  keyPrefix: string;
  idleSeconds: number;
  /** How long an EXPIRED token keeps answering status EXPIRED before it is forgotten. */
  expiredRetentionSeconds?: number;
  /** Test only: the scripts add the offset stored in the queue's clock key to Redis TIME. */
  testClock?: boolean;
}

/** A queue script run on one room's keys (0: the house room). */
export type QueueScript = (roomId: number, ...args: (string | number)[]) => Promise<unknown>;

/** Reply of join/poll/find: {token, user, status, activeUntil, expiresAt, holdConcertId, lastSeenAt, position, now}. */
export type TokenReply = [
  string,
  string,
  TokenStatus,
  number | '',
  number | '',
  /** holdConcertId, '' when none. */
  string,
  number,
  number,
  number,
];

const optionalDate = (value: number | ''): Date | null => (value === '' ? null : new Date(value));

export function toRecord(reply: TokenReply): TokenRecord {
  const [token, user, status, activeUntil, expiresAt, holdConcertId, lastSeenAt, , now] = reply;
  return {
    token,
    userId: Number(user),
    roomId: roomOfToken(token),
    now: new Date(now),
    state: {
      status,
      activeUntil: optionalDate(activeUntil),
      expiresAt: optionalDate(expiresAt),
      holdConcertId: holdConcertId === '' ? null : Number(holdConcertId),
      lastSeenAt: new Date(lastSeenAt),
    },
  };
}

/** How often a poll moves a WAITING token's idle deadline: small steps, like the postgres adapter. */
export const touchIntervalMs = (idleMs: number): number => Math.min(Math.ceil(idleMs / 10), 10_000);

/**
 * Defines queue scripts on `redis`: each is the shared prelude plus its file (src/redis/scripts),
 * called with one room's keys (queueKeyOrder, then `extraKeys`) and the common ARGV head, so
 * a caller passes only the room and the script's own arguments. `name` keeps the command names
 * of different adapters apart on one client.
 */
export function defineQueueScripts<Name extends string>(
  redis: RedisClient,
  options: QueueScriptOptions,
  name: string,
  files: Record<Name, string>,
  extraKeys: (keys: QueueKeys) => string[] = () => [],
): Record<Name, QueueScript> {
  const keys = redisKeys(options.keyPrefix);
  const retentionMs = (options.expiredRetentionSeconds ?? DEFAULT_EXPIRED_RETENTION_SECONDS) * 1000;
  const tail = [options.testClock ? '1' : '0', options.idleSeconds * 1000, retentionMs];
  const heads = new Map<number, (string | number)[]>();
  const headOf = (roomId: number) => {
    let head = heads.get(roomId);
    if (!head) {
      const room = keys.room(roomId);
      head = [...queueKeyOrder.map((key) => room[key]), ...extraKeys(room), ...tail];
      heads.set(roomId, head);
    }
    return head;
  };
  const numberOfKeys = headOf(0).length - tail.length;
  const scripts = {} as Record<Name, QueueScript>;
  for (const [script, file] of Object.entries(files) as [Name, string][]) {
    const command = `${name}_${script}`;
    redis.defineCommand(command, { numberOfKeys, lua: luaSource('queue.prelude', file) });
    const run = (redis as unknown as Record<string, (...args: unknown[]) => Promise<unknown>>)[
      command
    ];
    if (!run) throw new Error(`ioredis did not define ${command}`);
    scripts[script] = (roomId, ...args) => run.call(redis, ...headOf(roomId), ...args);
  }
  return scripts;
}
