import type { RedisClient } from '../../redis/client.js';
import { redisKeys } from '../../redis/keys.js';
import { newRoomToken, roomOfToken } from '../../shared/ids.js';
import type { RoomSettings } from '../rooms/rooms.store.js';
import { RATE_BUCKETS, steadyRates, type AdmissionWindow } from './queue.estimate.js';
import {
  defineQueueScripts,
  toRecord,
  touchIntervalMs,
  type QueueScriptOptions,
  type TokenReply,
} from './queue.scripts.redis.js';
import {
  DEFAULT_RATE_WINDOW_SECONDS,
  tokenView,
  type QueueStore,
  type TokenView,
} from './queue.store.js';

export interface RedisQueueOptions extends QueueScriptOptions {
  maxActive: number;
  activeTtlSeconds: number;
  /** How long after expiresAt the sweep frees an ACTIVE token's slot (see below). */
  sweepDelayMs?: number;
  /** Window of the measured admission rate (default DEFAULT_RATE_WINDOW_SECONDS). */
  rateWindowSeconds?: number;
  /**
   * The rooms' settings as this instance knows them (the room directory); without it only the
   * house room exists, with `maxActive`.
   */
  rooms?: { settings(roomId: number): RoomSettings | undefined };
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
  /**
   * The room's freed count as read before this instance's last sold-out flags that could be read
   * ('' when none were read yet, or for the house room; 'unread': a concert room no run here has
   * counted): the scripts that may admit pass it (queue.prelude.lua flags_fresh).
   */
  freedSeen(roomId: number): string;
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
/** Most tokens one admission run expires per kind (due, idle, purge): runs stay short. */
const SWEEP_BATCH = 1_000;
/**
 * Most tokens one watch script reads: a script blocks Redis while it runs, so thousands of live
 * streams are read as several short scripts (sent together, one round trip with auto-pipelining).
 */
const WATCH_BATCH = 500;

const scriptFiles = {
  join: 'queue.join',
  joinMany: 'queue.join-many',
  poll: 'queue.poll',
  find: 'queue.find',
  expire: 'queue.expire',
  admit: 'queue.admit',
  holdTaken: 'queue.hold-taken',
  holdReleased: 'queue.hold-released',
  watch: 'queue.watch',
} as const;

/** Whether a join may be ACTIVE at once in `room`: open, and no rate limit to spend. */
export const admitsAtJoin = (room: RoomSettings): boolean =>
  room.state === 'open' && room.admissionPerMinute === null;

/**
 * The waiting room in Redis: the seed's two sorted sets (waiting by arrival, active by expiry)
 * plus an idle index, an expired index, the token states and the user → live token index, all
 * under one hash tag (src/redis/keys.ts). Every call is one Lua script: one round trip, atomic,
 * with Redis TIME as the only clock, so any number of instances share one consistent line.
 */
export function createRedisQueueStore(
  redis: RedisClient,
  options: RedisQueueOptions,
): RedisQueueStore {
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

  const keys = redisKeys(options.keyPrefix);
  const house: RoomSettings = {
    roomId: 0,
    maxActive: options.maxActive,
    admissionPerMinute: null,
    state: 'open',
  };
  const settingsOf = (roomId: number): RoomSettings | undefined =>
    options.rooms?.settings(roomId) ?? (roomId === 0 ? house : undefined);
  // A room that lost its last token leaves the work index, unless a join came since.
  redis.defineCommand('overtureRoomsPrune', {
    numberOfKeys: 1,
    lua: "local s = redis.call('ZSCORE', KEYS[1], ARGV[1]) if s and tonumber(s) <= tonumber(ARGV[2]) then return redis.call('ZREM', KEYS[1], ARGV[1]) end return 0",
  });
  const prune = (roomId: number, at: number) =>
    (
      redis as unknown as Record<string, (...args: unknown[]) => Promise<unknown>>
    ).overtureRoomsPrune?.call(redis, keys.roomsWithWork, roomId, at);

  /** Per concert room, the freed count read before the last sold-out flags (admit's `prepare`). */
  const freedSeen = new Map<number, string>();
  /** Whether flags were read: then a concert room of no count read is stale ('unread', no count). */
  let flagsRead = false;
  const seenOf = (roomId: number) =>
    freedSeen.get(roomId) ?? (flagsRead && roomId !== 0 ? 'unread' : '');

  /** One room's admission run with its settings as known here. */
  const admitRoom = async (room: RoomSettings) => {
    const [expired, admitted, active, waiting, pending, now] = (await scripts.admit(
      room.roomId,
      room.maxActive,
      activeMs,
      sweepDelayMs,
      SWEEP_BATCH,
      rateWindowMs,
      room.state === 'paused' ? '1' : '0',
      room.admissionPerMinute ?? '',
      seenOf(room.roomId),
    )) as [number, number, number, number, number, number];
    if (room.roomId !== 0 && active === 0 && waiting === 0 && pending === 0)
      await prune(room.roomId, now);
    return { expired, admitted, active, waiting };
  };

  return {
    async join(userId, room = house, token) {
      const reply = tokenReply(
        await scripts.join(
          room.roomId,
          token ?? newRoomToken(room.roomId),
          userId,
          admitsAtJoin(room) ? room.maxActive : 0,
          activeMs,
          touchEveryMs,
          seenOf(room.roomId),
        ),
      );
      if (!reply) throw new Error(`the join script returned no token for user ${userId}`);
      if (room.roomId !== 0)
        await redis.zadd(keys.roomsWithWork, String(reply[8]), String(room.roomId));
      return view(reply);
    },

    async joinMany(room, entries) {
      if (entries.length === 0) return;
      const pairs = entries.flatMap((entry) => [entry.token, String(entry.userId)]);
      const atOnce = admitsAtJoin(room) ? room.maxActive : 0;
      const reply = await scripts.joinMany(
        room.roomId,
        atOnce,
        activeMs,
        touchEveryMs,
        seenOf(room.roomId),
        ...pairs,
      );
      const now = String((reply as [number, number])[1]);
      if (room.roomId !== 0) await redis.zadd(keys.roomsWithWork, now, String(room.roomId));
    },

    async poll(token) {
      const reply = tokenReply(await scripts.poll(roomOfToken(token), token, touchEveryMs));
      return reply ? view(reply) : null;
    },

    async watch(tokens) {
      // Batches of one room each; the house room's batch always runs (its rate is the seed's).
      const byRoom = new Map<number, string[]>([[0, []]]);
      for (const token of tokens) {
        const roomId = roomOfToken(token);
        const list = byRoom.get(roomId) ?? [];
        list.push(token);
        byRoom.set(roomId, list);
      }
      const batches: [number, string[]][] = [];
      for (const [roomId, list] of byRoom) {
        if (list.length === 0) batches.push([roomId, []]);
        for (let start = 0; start < list.length; start += WATCH_BATCH)
          batches.push([roomId, list.slice(start, start + WATCH_BATCH)]);
      }
      const replies = (await Promise.all(
        batches.map(([roomId, batch]) =>
          scripts.watch(roomId, touchEveryMs, rateWindowMs, RATE_BUCKETS, ...batch),
        ),
      )) as [number, number[], [number, number], ...unknown[]][];
      const views = new Map<string, TokenView>();
      const windows = new Map<number, AdmissionWindow>();
      replies.forEach(([, counts, [oldestAgeMs, oldestCount], ...entries], i) => {
        const oldestAgeSeconds = Math.max(0, oldestAgeMs / 1000);
        windows.set(batches[i]?.[0] ?? 0, { counts, oldestAgeSeconds, oldestCount });
        for (const entry of entries) {
          const reply = tokenReply(entry);
          if (reply) views.set(reply[0], view(reply));
        }
      });
      const rates = steadyRates(windows, rateWindowSeconds);
      return { views, admissionRate: rates.get(0) ?? 0, rates };
    },

    async find(token) {
      const reply = tokenReply(await scripts.find(roomOfToken(token), token));
      return reply ? toRecord(reply) : null;
    },

    async expire(token) {
      return (await scripts.expire(roomOfToken(token), token)) === 1;
    },

    async admit(prepare) {
      // The house room, then every room that may have work (joined since it was last empty).
      const listed = (await redis.zrange(keys.roomsWithWork, '0', '-1')).map(Number);
      if (prepare) {
        // Each room's freed count before the flags' read: a slot freed after it stays free in
        // this run, as the flags may not know yet that its buyer paid for the last seat (0057).
        const freed = await Promise.all(listed.map((roomId) => redis.get(keys.room(roomId).freed)));
        if (await prepare()) {
          flagsRead = true;
          listed.forEach((roomId, i) => freedSeen.set(roomId, freed[i] ?? '0'));
        }
      }
      const rooms = [house.roomId, ...listed]
        .map((roomId) => settingsOf(roomId))
        .filter((room): room is RoomSettings => room !== undefined);
      const runs = await Promise.all(rooms.map(admitRoom));
      const first = runs[0];
      return {
        expired: runs.reduce((sum, run) => sum + run.expired, 0),
        admitted: runs.reduce((sum, run) => sum + run.admitted, 0),
        active: first?.active ?? 0,
        waiting: first?.waiting ?? 0,
      };
    },

    async roomStats(roomId) {
      const room = keys.room(roomId);
      const read = ((await redis
        .multi()
        .zcard(room.waiting)
        .zcard(room.pending)
        .zcard(room.active)
        .zcount(room.admissions, Date.now() - rateWindowMs, '+inf')
        .exec()) ?? []) as [unknown, unknown][];
      const [waiting, pending, active, admitted] = read.map((entry) => Number(entry[1]));
      return {
        waiting: (waiting ?? 0) + (pending ?? 0),
        active: active ?? 0,
        admissionRate: ((admitted ?? 0) * 60) / rateWindowSeconds,
      };
    },

    async holdTaken(token, holdExpiresAt, concertId) {
      await scripts.holdTaken(
        roomOfToken(token),
        token,
        holdExpiresAt.getTime(),
        concertId,
        sweepDelayMs,
      );
    },

    async holdReleased(token) {
      await scripts.holdReleased(roomOfToken(token), token);
    },

    freedSeen: seenOf,
  };
}
