import type { RedisClient } from '../../redis/client.js';
import type { Logger } from 'pino';
import type { EventKeys } from '../../redis/keys.js';
import { defineKeyCountedScript, luaSource } from '../../redis/scripts.js';

/** One member of one consumer group, as each of its parts knows it. */
export interface GroupMember {
  /** The shared client: every command but the blocking read. */
  redis: RedisClient;
  keys: EventKeys;
  /** The shard streams, shard by shard. */
  streams: string[];
  group: string;
  /** This member's consumer name, new at every subscribe (host, pid, random). */
  me: string;
  logger: Logger;
}

type ShardsScript = (numberOfKeys: number, ...args: (string | number)[]) => Promise<number[]>;

const SHARDS_COMMAND = 'overtureEvents_shards';

export interface ShardLeases {
  /** Joins or renews the membership, hands over what is no longer ours, takes what is free: the shards owned now. */
  rebalance(): Promise<number[]>;
  /** Stops the heartbeat and hands the shards over now, instead of after `claimIdleMs`. */
  leave(): Promise<void>;
}

/**
 * The member's share of the shards, by lease (src/redis/scripts/events.shards.lua): one member
 * of a group reads a shard at a time. A heartbeat renews the leases and the membership while a
 * long batch is being handled; a member that stops renewing loses them after `claimIdleMs`.
 */
export function shardLeases(member: GroupMember, claimIdleMs: number): ShardLeases {
  const { redis, keys, group, me } = member;
  const commands = redis as unknown as Record<string, ShardsScript | undefined>;
  defineKeyCountedScript(redis, SHARDS_COMMAND, luaSource('events.shards'));
  const scriptKeys = [keys.members(group), ...member.streams.map((_, s) => keys.lease(group, s))];
  const run = (mode: 'rebalance' | 'renew' | 'leave') => {
    const script = commands[SHARDS_COMMAND];
    if (!script) throw new Error(`ioredis did not define ${SHARDS_COMMAND}`);
    return script.call(redis, scriptKeys.length, ...scriptKeys, me, claimIdleMs, mode);
  };

  const heartbeat = setInterval(
    () => {
      run('renew').catch(() => undefined);
    },
    Math.max(10, Math.floor(claimIdleMs / 3)),
  );
  heartbeat.unref();

  return {
    async rebalance() {
      return (await run('rebalance')).map(Number);
    },
    async leave() {
      clearInterval(heartbeat);
      await run('leave').catch(() => undefined);
    },
  };
}

export interface MemberShards {
  owned(): readonly number[];
  /** The shards after a rebalance: those taken over are behind; those handed over are forgotten. */
  own(next: number[]): void;
  /** A handler threw: the entry and everything behind it stay pending, delivered again later. */
  failed(shard: number): void;
  /** A call failed: a reply may have been lost with the connection, and its entries are pending. */
  replyMayBeLost(): void;
  caughtUp(shard: number): void;
  isBehind(shard: number): boolean;
  isResting(shard: number): boolean;
}

/**
 * The shards this member owns and where each stands: a shard just taken over, or whose reply may
 * have been lost, is behind (its pending entries are handled before anything newer is read); a
 * shard whose handler threw rests until its redelivery time.
 */
export function memberShards(redeliveryDelayMs: number): MemberShards {
  let owned: number[] = [];
  const behind = new Set<number>();
  const restUntil = new Map<number, number>();
  return {
    owned: () => owned,
    own(next) {
      for (const shard of next) if (!owned.includes(shard)) behind.add(shard);
      for (const shard of owned) {
        if (next.includes(shard)) continue;
        behind.delete(shard);
        restUntil.delete(shard);
      }
      owned = next;
    },
    failed(shard) {
      restUntil.set(shard, Date.now() + redeliveryDelayMs);
      behind.add(shard);
    },
    replyMayBeLost() {
      for (const shard of owned) behind.add(shard);
    },
    caughtUp(shard) {
      behind.delete(shard);
    },
    isBehind: (shard) => behind.has(shard),
    isResting: (shard) => (restUntil.get(shard) ?? 0) > Date.now(),
  };
}
