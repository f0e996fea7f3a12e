import type { RedisClient } from '../../redis/client.js';
import type { Logger } from 'pino';
import { RANKING_COMPLETE, redisKeys } from '../../redis/keys.js';
import { luaSource } from '../../redis/scripts.js';
import type { RankEntry, RankingMirror } from './ranking.mirror.js';

export interface RankingMirrorOptions {
  keyPrefix: string;
  /** Every concert's count from PostgreSQL (concert_ranking). */
  load: () => Promise<RankEntry[]>;
  logger: Logger;
}

type Script = (...args: (string | number)[]) => Promise<unknown>;

const pairs = (flat: string[]): RankEntry[] => {
  const entries: RankEntry[] = [];
  for (let i = 0; i + 1 < flat.length; i += 2)
    entries.push({ concertId: Number(flat[i]), count: Number(flat[i + 1]) });
  return entries;
};

/** The RankingMirror port over Redis: the sorted set, its completeness marker and ranking.top.lua. */
export function createRankingMirror(
  redis: RedisClient,
  options: RankingMirrorOptions,
): RankingMirror {
  const key = redisKeys(options.keyPrefix).ranking;
  const command = 'overtureRanking_top';
  redis.defineCommand(command, { numberOfKeys: 1, lua: luaSource('ranking.top') });
  const run = (redis as unknown as Record<string, Script>)[command];
  if (!run) throw new Error(`ioredis did not define ${command}`);
  const readTop = (limit: number) =>
    run.call(redis, key, limit, RANKING_COMPLETE) as Promise<[string[], string[]] | null>;

  // A copy that failed (Redis away) leaves Redis behind PostgreSQL: rebuild before the next read.
  let behind = false;
  let lowerLost = false;

  /** Every count from PostgreSQL and the marker in one ZADD GT: atomic, and never lowers a newer copy. */
  const rebuild = async () => {
    const entries = await options.load();
    const scores = entries.flatMap((entry) => [entry.count, String(entry.concertId)]);
    // A lowering that was not copied cannot be made up by GT: the set is replaced instead.
    if (lowerLost)
      await redis
        .multi()
        .del(key)
        .zadd(key, ...scores, -1, RANKING_COMPLETE)
        .exec();
    else await redis.zadd(key, 'GT', ...scores, -1, RANKING_COMPLETE);
    behind = false;
    lowerLost = false;
    options.logger.info({ concerts: entries.length }, 'ranking rebuilt in Redis from PostgreSQL');
  };

  const copy = async (entry: RankEntry, lower: boolean) => {
    try {
      if (!lower) await redis.zadd(key, 'GT', entry.count, String(entry.concertId));
      else if (entry.count > 0) await redis.zadd(key, 'XX', entry.count, String(entry.concertId));
      else await redis.zrem(key, String(entry.concertId));
    } catch (error) {
      if (lower) lowerLost = true;
      if (!behind)
        options.logger.warn({ err: error }, 'ranking copy to Redis failed; rebuilt at next read');
      behind = true;
    }
  };

  return {
    record: (entry) => copy(entry, false),
    lowered: (entry) => copy(entry, true),

    async top(limit) {
      if (behind) await rebuild();
      let reply = await readTop(limit);
      if (!reply) {
        await rebuild();
        reply = await readTop(limit);
        if (!reply) throw new Error('the Redis ranking vanished again while it was rebuilt');
      }
      const counts = new Map<number, number>();
      for (const entry of [...pairs(reply[0]), ...pairs(reply[1])])
        counts.set(entry.concertId, entry.count);
      return [...counts]
        .map(([concertId, count]) => ({ concertId, count }))
        .sort((a, b) => b.count - a.count || a.concertId - b.concertId)
        .slice(0, limit);
    },

    async ensure() {
      try {
        if ((await redis.zscore(key, RANKING_COMPLETE)) === null) await rebuild();
      } catch (error) {
        options.logger.warn(
          { err: error },
          'ranking: could not check Redis at start; rebuilt at first read',
        );
        behind = true;
      }
    },
  };
}
