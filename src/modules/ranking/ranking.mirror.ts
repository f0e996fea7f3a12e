import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { RANKING_COMPLETE, redisKeys } from '../../redis/keys.js';
import { luaSource } from '../../redis/scripts.js';

/** Confirmed reservations of one concert. */
export interface RankEntry {
  concertId: number;
  count: number;
}

/**
 * The ranking's copy in Redis (the seed's sorted set), served to the popular list. PostgreSQL's
 * concert_ranking stays the record: the ranking consumer counts each event once there (its inbox
 * row and the increment are one statement) and then copies the concert's new count here with
 * ZADD GT — an absolute value that only ever rises, so redelivered, reordered or concurrent
 * copies all converge on the latest count and none counts twice. A set without its completeness
 * marker (Redis restarted empty, flushed, or only refilled by copies since) is rebuilt from
 * PostgreSQL before it is read; so is one whose copy failed while Redis was away.
 */
export interface RankingMirror {
  /** Copies a concert's count after PostgreSQL committed it; never throws. */
  record(entry: RankEntry): Promise<void>;
  /** The top `limit` by count (ties: lower concert id first), rebuilt first if lost; throws when Redis fails. */
  top(limit: number): Promise<RankEntry[]>;
  /** Rebuilds the set from PostgreSQL when it was lost (start-up); never throws. */
  ensure(): Promise<void>;
}

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

export function createRankingMirror(redis: Redis, options: RankingMirrorOptions): RankingMirror {
  const key = redisKeys(options.keyPrefix).ranking;
  const command = 'overtureRanking_top';
  redis.defineCommand(command, { numberOfKeys: 1, lua: luaSource('ranking.top') });
  const run = (redis as unknown as Record<string, Script>)[command];
  if (!run) throw new Error(`ioredis did not define ${command}`);
  const readTop = (limit: number) =>
    run.call(redis, key, limit, RANKING_COMPLETE) as Promise<[string[], string[]] | null>;

  // A copy that failed (Redis away) leaves Redis behind PostgreSQL: rebuild before the next read.
  let behind = false;

  /** Every count from PostgreSQL and the marker in one ZADD GT: atomic, and never lowers a newer copy. */
  const rebuild = async () => {
    const entries = await options.load();
    await redis.zadd(
      key,
      'GT',
      ...entries.flatMap((entry) => [entry.count, String(entry.concertId)]),
      -1,
      RANKING_COMPLETE,
    );
    behind = false;
    options.logger.info({ concerts: entries.length }, 'ranking rebuilt in Redis from PostgreSQL');
  };

  return {
    async record(entry) {
      try {
        await redis.zadd(key, 'GT', entry.count, String(entry.concertId));
      } catch (error) {
        if (!behind)
          options.logger.warn({ err: error }, 'ranking copy to Redis failed; rebuilt at next read');
        behind = true;
      }
    },

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
