import { duplicateRedis, type RedisClient } from '../../redis/client.js';
import type { Logger } from 'pino';
import { redisKeys } from '../../redis/keys.js';
import { AppError } from '../../shared/errors.js';
import { newRoomToken, roomOfToken } from '../../shared/ids.js';
import { createLoop, type Worker } from '../../shared/loop.js';
import type { NotReady } from '../../shared/readiness.js';
import type { QueueEntry, QueueLog } from './queue.log.kafka.js';
import {
  defineQueueScripts,
  toRecord,
  touchIntervalMs,
  type TokenReply,
} from './queue.scripts.redis.js';
import {
  admitsAtJoin,
  createRedisQueueStore,
  type RedisQueueOptions,
  type RedisQueueStore,
} from './queue.store.redis.js';
import { tokenView, type TokenView } from './queue.store.js';

export interface StreamQueueOptions extends RedisQueueOptions {
  /**
   * How long a join waits for its log entry to be applied before it answers with the provisional
   * place (WAITING, behind the whole line and every earlier pending join). 0: always answer at once.
   */
  applyWaitMs: number;
  /** A join whose append no broker acknowledged for this long is appended again (default 30 s). */
  repairAfterMs?: number;
  /** How often the repair looks for such joins (default 5 s). */
  repairIntervalMs?: number;
  logger: Logger;
}

export interface StreamQueue {
  /** The Redis waiting room, joined through the log. */
  store: RedisQueueStore;
  /**
   * This instance's part of the log: its member of the consumer group (applies entries), its
   * subscription to the tokens placed on other instances, and the repair of lost appends.
   */
  worker: Worker & {
    /** The log partitions this instance applies now. */
    assignment(): number[];
    /** Why joins cannot go through the log yet (QueueLog.readiness). */
    readiness(): NotReady[];
  };
}

const DEFAULT_REPAIR_AFTER_MS = 30_000;
const DEFAULT_REPAIR_INTERVAL_MS = 5_000;
/** Most lost appends one repair run re-sends. */
const REPAIR_BATCH = 100;

const scriptFiles = {
  join: 'queue.stream.join',
  joinMany: 'queue.stream.join-many',
  apply: 'queue.stream.apply',
  release: 'queue.stream.release',
  unlogged: 'queue.stream.unlogged',
} as const;

/** The join script's reply: a token reply, then fresh and pending (1 or 0). */
type JoinReply = [...TokenReply, 0 | 1, 0 | 1];

const unavailable = () =>
  new AppError(
    'SERVICE_UNAVAILABLE',
    'The waiting room cannot take new entries right now; retry shortly.',
  );

/**
 * QUEUE_BACKEND=stream: the Redis waiting room, fed through a partitioned log. A join takes a
 * token for its user in Redis (one live token per user, as on the Redis backend), appends
 * {room, token, userId} to the log keyed by user, and the consumer group's members place the
 * entries in log order (one Redis script per batch); placing is what gives a token its arrival
 * number, and the first admission too when nobody waits. Until its entry is placed a token is
 * pending: WAITING, with the provisional place behind the whole line and every earlier pending join.
 * Reads, expiry, admission and holds are the Redis store's, unchanged.
 * docs/decisions/0011-kafka-queue-mode.md says why, and what it costs.
 */
export function createStreamQueueStore(
  redis: RedisClient,
  log: QueueLog,
  options: StreamQueueOptions,
): StreamQueue {
  const { logger } = options;
  const room = createRedisQueueStore(redis, options);
  const allKeys = redisKeys(options.keyPrefix);
  const keys = allKeys.queue;
  const idleMs = options.idleSeconds * 1000;
  const activeMs = options.activeTtlSeconds * 1000;
  const touchEveryMs = touchIntervalMs(idleMs);
  const scripts = defineQueueScripts(redis, options, 'overtureQueueStream', scriptFiles, (room) => [
    room.unlogged,
  ]);
  const view = (reply: TokenReply): TokenView => tokenView(toRecord(reply), reply[7], idleMs);

  /** Joins waiting for their user's token to be placed, by room and user id. */
  const waiters = new Map<string, Set<(view: TokenView | undefined) => void>>();

  /** Registered before the join script runs, so a placement right after it cannot be missed. */
  const awaitPlacement = (roomId: number, user: number) => {
    const userId = `${roomId}:${user}`;
    let settle: (view: TokenView | undefined) => void = () => undefined;
    const placed = new Promise<TokenView | undefined>((resolve) => (settle = resolve));
    const forUser = waiters.get(userId) ?? new Set();
    waiters.set(userId, forUser);
    forUser.add(settle);
    const cancel = () => {
      forUser.delete(settle);
      if (forUser.size === 0 && waiters.get(userId) === forUser) waiters.delete(userId);
      settle(undefined);
    };
    return {
      /** The placed view, or undefined when `ms` passed first. */
      async within(ms: number): Promise<TokenView | undefined> {
        const timer = setTimeout(cancel, ms);
        try {
          return await placed;
        } finally {
          clearTimeout(timer);
        }
      },
      cancel,
    };
  };

  const announce = (views: TokenView[]) => {
    for (const placed of views) {
      const key = `${placed.roomId}:${placed.userId}`;
      const forUser = waiters.get(key);
      if (!forUser) continue;
      waiters.delete(key);
      for (const settle of forUser) settle(placed);
    }
  };

  const append = async (entry: QueueEntry): Promise<void> => {
    try {
      await log.append(entry);
    } catch (error) {
      // Undo the join; if Redis is away too, the repair appends it later instead.
      await scripts
        .release(roomOfToken(entry.token), entry.token)
        .catch((releaseError: unknown) => {
          logger.warn(
            { err: releaseError },
            'a join whose append failed could not be undone; the repair will append it',
          );
        });
      logger.warn({ err: error }, 'queue log append failed; the join answers 503');
      throw unavailable();
    }
    // Acknowledged: the repair leaves it alone (lost, this only costs one duplicate entry).
    redis.zrem(allKeys.room(roomOfToken(entry.token)).unlogged, entry.token).catch(() => undefined);
  };

  /**
   * Places one partition's entries (this deployment's) in log order, one script per concert room
   * (a token's room is in its value; rooms keep their own order, the log's).
   */
  const apply = async (entries: QueueEntry[]): Promise<void> => {
    const byRoom = new Map<number, QueueEntry[]>();
    for (const entry of entries) {
      if (entry.room !== options.keyPrefix) continue;
      const roomId = roomOfToken(entry.token);
      byRoom.set(roomId, [...(byRoom.get(roomId) ?? []), entry]);
    }
    for (const [roomId, mine] of byRoom) {
      const settings = roomId === 0 ? undefined : options.rooms?.settings(roomId);
      const atOnce =
        roomId === 0
          ? options.maxActive
          : settings && admitsAtJoin(settings)
            ? settings.maxActive
            : 0;
      const placed = (await scripts.apply(
        roomId,
        atOnce,
        activeMs,
        keys.applied,
        room.freedSeen(roomId),
        ...mine.flatMap((entry) => [entry.token, String(entry.userId)]),
      )) as TokenReply[];
      announce(placed.map(view));
    }
  };

  /**
   * Appends again the joins a crash (or a lost rollback) left unacknowledged: each room's in the
   * order they were taken (a move's batch in its draw order), as one batch under the room's key
   * like the move itself, so one partition places them in that order.
   */
  const repair = createLoop(
    'queue-log-repair',
    options.repairIntervalMs ?? DEFAULT_REPAIR_INTERVAL_MS,
    async () => {
      const rooms = [0, ...(await redis.zrange(allKeys.roomsWithWork, '0', '-1')).map(Number)];
      let appended = 0;
      for (const roomId of rooms) {
        const stale = (await scripts.unlogged(
          roomId,
          options.repairAfterMs ?? DEFAULT_REPAIR_AFTER_MS,
          REPAIR_BATCH,
        )) as string[];
        const batch = stale.flatMap((token, i) =>
          i % 2 === 0 ? [{ room: options.keyPrefix, token, userId: Number(stale[i + 1]) }] : [],
        );
        if (batch.length === 0) continue;
        await log.append(batch);
        await redis.zrem(allKeys.room(roomId).unlogged, ...batch.map((entry) => entry.token));
        appended += batch.length;
      }
      if (appended > 0)
        logger.warn({ entries: appended }, 'queue log: unacknowledged joins appended again');
    },
    logger,
  );

  let subscriber: RedisClient | undefined;

  const store: RedisQueueStore = {
    async join(userId, joining, token) {
      const roomId = joining?.roomId ?? 0;
      const placement = options.applyWaitMs > 0 ? awaitPlacement(roomId, userId) : undefined;
      try {
        const reply = (await scripts.join(
          roomId,
          token ?? newRoomToken(roomId),
          userId,
          touchEveryMs,
        )) as JoinReply;
        const [fresh, pending] = [reply[9], reply[10]];
        const joined = view(reply.slice(0, 9) as TokenReply);
        // Admission serves the rooms in this index (queue.store.redis.ts).
        if (roomId !== 0) await redis.zadd(allKeys.roomsWithWork, String(reply[8]), String(roomId));
        if (pending === 0) return joined;
        if (fresh === 1) await append({ room: options.keyPrefix, token: joined.token, userId });
        if (!placement) return joined;
        const placed = await placement.within(options.applyWaitMs);
        if (placed?.token === joined.token) return placed;
        // Not placed in time (or the news was lost): the place it has now, provisional or not.
        const current = await room.poll(joined.token);
        // Unknown: another instance's join took it, failed to append and undid the join.
        if (!current) throw unavailable();
        return current;
      } finally {
        placement?.cancel();
      }
    },
    /**
     * A pre-queue's move: the batch's tokens taken as pending in one script, appended as one
     * produce batch under the room's key (one partition keeps its order), then placed by the
     * consumer in that order; it waits for the placements like a join. An append that fails
     * leaves the tokens pending: the next run of the batch appends them again, in order.
     */
    async joinMany(joining, entries) {
      const roomId = joining.roomId;
      const placements = new Map(
        options.applyWaitMs > 0
          ? entries.map((entry) => [entry.userId, awaitPlacement(roomId, entry.userId)])
          : [],
      );
      try {
        const pairs = entries.flatMap((entry) => [entry.token, String(entry.userId)]);
        const [now, ...taken] = (await scripts.joinMany(
          roomId,
          touchEveryMs,
          ...pairs,
        )) as string[];
        if (roomId !== 0) await redis.zadd(allKeys.roomsWithWork, String(now), String(roomId));
        const batch = taken.flatMap((token, i) =>
          i % 2 === 0 ? [{ room: options.keyPrefix, token, userId: Number(taken[i + 1]) }] : [],
        );
        if (batch.length === 0) return;
        await log.append(batch);
        await redis.zrem(allKeys.room(roomId).unlogged, ...batch.map((entry) => entry.token));
        // Placed in order: the wait for the batch is one join's wait, shared.
        const deadline = Date.now() + options.applyWaitMs;
        for (const entry of batch)
          await placements.get(entry.userId)?.within(Math.max(0, deadline - Date.now()));
      } finally {
        for (const placement of placements.values()) placement.cancel();
      }
    },
    poll: (token) => room.poll(token),
    watch: (tokens) => room.watch(tokens),
    find: (token) => room.find(token),
    expire: (token) => room.expire(token),
    admit: (prepare) => room.admit(prepare),
    roomStats: (roomId) => room.roomStats(roomId),
    holdTaken: (token, holdExpiresAt, concertId) => room.holdTaken(token, holdExpiresAt, concertId),
    holdReleased: (token) => room.holdReleased(token),
    freedSeen: (roomId) => room.freedSeen(roomId),
  };

  return {
    store,
    worker: {
      start() {
        // Placements made by other instances' members reach this instance's waiting joins here.
        subscriber = duplicateRedis(redis, {
          enableOfflineQueue: true,
          commandTimeout: undefined,
          maxRetriesPerRequest: null,
          connectionName: 'overture-queue-applied',
        });
        subscriber.on('error', () => undefined);
        subscriber.on('message', (channel: string, message: string) => {
          if (channel !== keys.applied) return;
          try {
            announce((JSON.parse(message) as TokenReply[]).map(view));
          } catch (error) {
            logger.warn({ err: error }, 'unreadable queue placement message; ignored');
          }
        });
        subscriber.subscribe(keys.applied).catch((error: unknown) => {
          logger.warn(
            { err: error },
            'could not subscribe to queue placements; joins poll instead',
          );
        });
        log.consume(apply);
        void repair.start();
      },
      async stop() {
        await repair.stop();
        await log.close();
        subscriber?.disconnect();
        subscriber = undefined;
        for (const forUser of waiters.values()) for (const settle of forUser) settle(undefined);
        waiters.clear();
      },
      assignment: () => log.assignment(),
      readiness: () => log.readiness(),
    },
  };
}
