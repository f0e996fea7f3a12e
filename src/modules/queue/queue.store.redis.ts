import type { Redis } from 'ioredis';
import { queueKeyOrder, redisKeys } from '../../redis/keys.js';
import { luaSource } from '../../redis/scripts.js';
import { newQueueToken } from '../../shared/ids.js';
import type { TokenStatus } from './queue.rules.js';
import {
  DEFAULT_RATE_WINDOW_SECONDS,
  tokenView,
  type AdmissionResult,
  type QueueStore,
  type TokenRecord,
  type TokenView,
} from './queue.store.js';

export interface RedisQueueOptions {
  /** Key prefix (see src/redis/keys.ts); tests give each store its own. */
  keyPrefix: string;
  maxActive: number;
  activeTtlSeconds: number;
  idleSeconds: number;
  /** How long an EXPIRED token keeps answering status EXPIRED before it is forgotten. */
  expiredRetentionSeconds?: number;
  /** How long after expiresAt the sweep frees an ACTIVE token's slot (see below). */
  sweepDelayMs?: number;
  /** Test only: the scripts add the offset stored in the queue's clock key to Redis TIME. */
  testClock?: boolean;
  /** Window of the measured admission rate (default DEFAULT_RATE_WINDOW_SECONDS). */
  rateWindowSeconds?: number;
}

/** The Redis waiting room, with the steps bookings take there after they commit. */
export interface RedisQueueStore extends QueueStore {
  /**
   * Keeps a token alive until its hold expires, for that concert only; only while the sweep
   * could not yet have taken it, and never reviving an EXPIRED one.
   */
  holdTaken(token: string, holdExpiresAt: Date, concertId: number): Promise<void>;
  /** The hold ended: the token lives its own shopping time again. */
  holdReleased(token: string): Promise<void>;
}

/**
 * Why the sweep waits `sweepDelayMs` after an ACTIVE token's expiresAt before freeing its slot:
 * a hold on this backend is checked against the token as read before the PostgreSQL transaction,
 * and the token is extended (holdTaken) only after that transaction commits. A token checked
 * just before its expiry could otherwise be swept between the hold's commit and holdTaken: the
 * user would keep a held seat with a dead token that can never pay for it. Reads and access
 * checks still say EXPIRED from expiresAt on; only the slot (and holdTaken's chance to extend)
 * outlives it by the delay. holdTaken extends a token only while the sweep could not yet have
 * taken it (status ACTIVE and now < expiresAt + delay) and never revives an EXPIRED one. A hold
 * whose commit-to-holdTaken time exceeds the delay leaves the seat held without a usable token
 * until the hold expires; PostgreSQL still decides every sale, so this costs time, never money.
 */
const DEFAULT_SWEEP_DELAY_MS = 2_000;
const DEFAULT_EXPIRED_RETENTION_SECONDS = 3_600;
/** Most tokens one admission run expires per kind (due, idle, purge): runs stay short. */
const SWEEP_BATCH = 1_000;
/**
 * Most tokens one watch script reads: a script blocks Redis while it runs, so thousands of live
 * streams are read as several short scripts (sent together, one round trip with auto-pipelining).
 */
const WATCH_BATCH = 500;

export type QueueScript = (...args: (string | number)[]) => Promise<unknown>;

const scriptFiles = {
  join: 'queue.join',
  poll: 'queue.poll',
  find: 'queue.find',
  expire: 'queue.expire',
  admit: 'queue.admit',
  holdTaken: 'queue.hold-taken',
  holdReleased: 'queue.hold-released',
  watch: 'queue.watch',
} as const;

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
 * called with the queue's keys (queueKeyOrder, then `extraKeys`) and the common ARGV head, so
 * a caller passes only the script's own arguments. `name` keeps the command names of different
 * adapters apart on one client.
 */
export function defineQueueScripts<Name extends string>(
  redis: Redis,
  options: Pick<
    RedisQueueOptions,
    'keyPrefix' | 'idleSeconds' | 'expiredRetentionSeconds' | 'testClock'
  >,
  name: string,
  files: Record<Name, string>,
  extraKeys: readonly string[] = [],
): Record<Name, QueueScript> {
  const keys = redisKeys(options.keyPrefix).queue;
  const retentionMs = (options.expiredRetentionSeconds ?? DEFAULT_EXPIRED_RETENTION_SECONDS) * 1000;
  const allKeys = [...queueKeyOrder.map((key) => keys[key]), ...extraKeys];
  const head = [...allKeys, options.testClock ? '1' : '0', options.idleSeconds * 1000, retentionMs];
  const scripts = {} as Record<Name, QueueScript>;
  for (const [script, file] of Object.entries(files) as [Name, string][]) {
    const command = `${name}_${script}`;
    redis.defineCommand(command, {
      numberOfKeys: allKeys.length,
      lua: luaSource('queue.prelude', file),
    });
    const run = (redis as unknown as Record<string, QueueScript>)[command];
    if (!run) throw new Error(`ioredis did not define ${command}`);
    scripts[script] = (...args) => run.call(redis, ...head, ...args);
  }
  return scripts;
}

/**
 * The waiting room in Redis: the seed's two sorted sets (waiting by arrival, active by expiry)
 * plus an idle index, an expired index, the token states and the user → live token index, all
 * under one hash tag (src/redis/keys.ts). Every call is one Lua script: one round trip, atomic,
 * with Redis TIME as the only clock, so any number of instances share one consistent line.
 */
export function createRedisQueueStore(redis: Redis, options: RedisQueueOptions): RedisQueueStore {
  const idleMs = options.idleSeconds * 1000;
  const activeMs = options.activeTtlSeconds * 1000;
  const touchEveryMs = touchIntervalMs(idleMs);
  const sweepDelayMs = options.sweepDelayMs ?? DEFAULT_SWEEP_DELAY_MS;
  const rateWindowSeconds = options.rateWindowSeconds ?? DEFAULT_RATE_WINDOW_SECONDS;
  const rateWindowMs = rateWindowSeconds * 1000;
  const scripts = defineQueueScripts(redis, options, 'overtureQueue', scriptFiles);

  const view = (reply: TokenReply): TokenView => tokenView(toRecord(reply), reply[7], idleMs);

  const tokenReply = (value: unknown): TokenReply | null =>
    Array.isArray(value) && value.length > 0 ? (value as TokenReply) : null;

  return {
    async join(userId) {
      const reply = tokenReply(
        await scripts.join(newQueueToken(), userId, options.maxActive, activeMs, touchEveryMs),
      );
      if (!reply) throw new Error(`the join script returned no token for user ${userId}`);
      return view(reply);
    },

    async poll(token) {
      const reply = tokenReply(await scripts.poll(token, touchEveryMs));
      return reply ? view(reply) : null;
    },

    async watch(tokens) {
      const batches: string[][] = [];
      for (let start = 0; start < tokens.length; start += WATCH_BATCH)
        batches.push(tokens.slice(start, start + WATCH_BATCH));
      if (batches.length === 0) batches.push([]);
      const replies = (await Promise.all(
        batches.map((batch) => scripts.watch(touchEveryMs, rateWindowMs, ...batch)),
      )) as [number, number, ...unknown[]][];
      const views = new Map<string, TokenView>();
      for (const [, , ...entries] of replies) {
        for (const entry of entries) {
          const reply = tokenReply(entry);
          if (reply) views.set(reply[0], view(reply));
        }
      }
      // The last batch read the rate latest.
      const admitted = replies[replies.length - 1]?.[1] ?? 0;
      return { views, admissionRate: admitted / rateWindowSeconds };
    },

    async find(token) {
      const reply = tokenReply(await scripts.find(token));
      return reply ? toRecord(reply) : null;
    },

    async expire(token) {
      return (await scripts.expire(token)) === 1;
    },

    async admit() {
      const [expired, admitted, active, waiting] = (await scripts.admit(
        options.maxActive,
        activeMs,
        sweepDelayMs,
        SWEEP_BATCH,
        rateWindowMs,
      )) as [number, number, number, number];
      const result: AdmissionResult = { expired, admitted, active, waiting };
      return result;
    },

    async holdTaken(token, holdExpiresAt, concertId) {
      await scripts.holdTaken(token, holdExpiresAt.getTime(), concertId, sweepDelayMs);
    },

    async holdReleased(token) {
      await scripts.holdReleased(token);
    },
  };
}
