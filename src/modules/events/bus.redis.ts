import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { RedisClient } from '../../redis/client.js';
import type { Logger } from 'pino';
import { redisKeys } from '../../redis/keys.js';
import { pause } from '../../shared/pause.js';
import type { EventBus, Subscription } from './bus.js';
import { pendingClaimer } from './bus.redis.claimer.js';
import { entryHandler, groupReader } from './bus.redis.reader.js';
import { memberShards, shardLeases, type GroupMember } from './bus.redis.shards.js';
import { streamTrimmer } from './bus.redis.trimmer.js';
import { shardOf } from './bus.shared.js';
import type { OutboxEvent } from './events.js';

export interface RedisBusOptions {
  keyPrefix: string;
  /** Streams the events are spread over by hash of their key; each is read by one member of a group at a time. */
  shards: number;
  /**
   * A member silent this long is dead: its shard leases run out and its unacknowledged entries
   * are claimed by the member that takes the shard over.
   */
  claimIdleMs: number;
  /** Entries older than this are trimmed even if a group never acknowledged them. */
  retentionHours: number;
  /** Entries read per stream and call (default 100). */
  batchSize?: number;
  /** Longest wait of one blocking read (default min(1 s, claimIdleMs / 4)). */
  blockMs?: number;
  /** Pause before an entry whose handler threw is delivered again (default 1 s). */
  redeliveryDelayMs?: number;
  /** How often a member trims the streams it owns (default 10 s). */
  trimIntervalMs?: number;
  logger: Logger;
}

/**
 * Redis Streams. `publish` appends each event (XADD, one pipeline per batch) to the stream of its
 * key's shard, so one concert's events sit in one stream in publish order. A group is a Redis
 * consumer group created on every shard stream from the start (`0`), so a group reads everything
 * the streams still hold. Its members split the shards with leases (src/redis/scripts/
 * events.shards.lua): one member reads a shard at a time, which keeps one key's events in order
 * within the group even with many members. A member reads with XREADGROUP BLOCK on a connection
 * of its own (never the shared client), handles entries in order and XACKs them once the handler
 * resolved; a handler that throws leaves its entry (and those behind it in that shard) pending,
 * and the member delivers them again from its pending list after a pause. A member that dies
 * stops renewing its leases; after `claimIdleMs` another member takes the shard and first claims
 * (XCLAIM) the dead member's pending entries, oldest first, before reading anything newer.
 * Streams are trimmed (XTRIM MINID ~) only below the oldest entry some group still needs — or
 * past the retention time.
 *
 * A member is made of parts with one job each: its shard leases and where each shard stands
 * (bus.redis.shards.ts), the entry handler and the reader of new entries (bus.redis.reader.ts),
 * the claimer of what departed members left pending (bus.redis.claimer.ts) and the trimmer
 * (bus.redis.trimmer.ts); its loop below runs them in turn.
 */
export function createRedisBus(redis: RedisClient, options: RedisBusOptions): EventBus {
  const keys = redisKeys(options.keyPrefix).events;
  const { logger, shards, claimIdleMs } = options;
  const batchSize = options.batchSize ?? 100;
  const blockMs = options.blockMs ?? Math.max(10, Math.min(1_000, Math.floor(claimIdleMs / 4)));
  const redeliveryDelayMs = options.redeliveryDelayMs ?? 1_000;
  const trimIntervalMs = options.trimIntervalMs ?? 10_000;
  const retentionMs = options.retentionHours * 3_600_000;
  const streams = Array.from({ length: shards }, (_, shard) => keys.stream(shard));
  const subscriptions = new Set<Subscription>();

  /** Creates the group on every shard stream (and the stream itself), reading from the start. */
  async function createGroups(group: string): Promise<void> {
    const pipeline = redis.pipeline();
    for (const stream of streams) pipeline.xgroup('CREATE', stream, group, '0', 'MKSTREAM');
    for (const [error] of (await pipeline.exec()) ?? []) {
      if (error && !error.message.startsWith('BUSYGROUP')) throw error;
    }
  }

  function subscribeGroup(
    group: string,
    handler: (event: OutboxEvent) => Promise<void>,
  ): Subscription {
    const me = `${hostname()}-${process.pid}-${randomBytes(4).toString('hex')}`;
    const member: GroupMember = { redis, keys, streams, group, me, logger };
    const stopping = new AbortController();
    const stopped = () => stopping.signal.aborted;
    const myShards = memberShards(redeliveryDelayMs);
    const handle = entryHandler(member, myShards, handler);
    const reader = groupReader(member, { batchSize, blockMs, handle });
    const catchUp = pendingClaimer(member, myShards, { claimIdleMs, batchSize, handle });
    const trimmer = streamTrimmer(member, { intervalMs: trimIntervalMs, retentionMs, claimIdleMs });
    const leases = shardLeases(member, claimIdleMs);

    /** The shards that may be read now: not resting after a failure, and caught up. */
    async function readyShards(): Promise<number[]> {
      const ready: number[] = [];
      for (const shard of myShards.owned()) {
        if (myShards.isResting(shard)) continue;
        if (myShards.isBehind(shard) && !(await catchUp(shard))) continue;
        ready.push(shard);
      }
      return ready;
    }

    const loop = (async () => {
      let groupsReady = false;
      let failing = false;
      while (!stopped()) {
        try {
          if (!groupsReady) {
            await createGroups(group);
            groupsReady = true;
          }
          myShards.own(await leases.rebalance());
          await trimmer.trimIfDue(myShards.owned());
          const ready = await readyShards();
          if (failing) {
            failing = false;
            logger.info({ group }, 'redis event bus available again');
          }
          if (ready.length === 0 || !reader.connected() || stopped()) {
            // Nothing to read yet (shards owned by others, waiting to claim, or connecting).
            await pause(Math.min(blockMs, 250), stopping.signal);
            continue;
          }
          await reader.readNew(ready);
        } catch (error) {
          if (stopped()) break;
          // Redis lost the group (restarted empty, or the stream was deleted): create it again.
          if (error instanceof Error && error.message.startsWith('NOGROUP')) groupsReady = false;
          if (!failing) {
            failing = true;
            logger.warn({ err: error, group }, 'redis event bus unavailable; retrying');
          }
          myShards.replyMayBeLost();
          await pause(500, stopping.signal);
        }
      }
    })();

    const subscription: Subscription = {
      async stop() {
        if (!subscriptions.delete(subscription)) return;
        stopping.abort();
        // Ends a blocking read at once; a batch in hand is finished and acknowledged first.
        reader.disconnect();
        await loop;
        await leases.leave();
      },
    };
    subscriptions.add(subscription);
    return subscription;
  }

  return {
    name: 'redis',

    async publish(events) {
      if (events.length === 0) return;
      const pipeline = redis.pipeline();
      for (const event of events)
        pipeline.xadd(keys.stream(shardOf(event.key, shards)), '*', 'event', JSON.stringify(event));
      const results = await pipeline.exec();
      if (!results) throw new Error('redis returned no reply to the publish pipeline');
      for (const [error] of results) if (error) throw error;
    },

    subscribe(group, handler) {
      return Promise.resolve(subscribeGroup(group, handler));
    },

    async close() {
      await Promise.all([...subscriptions].map((subscription) => subscription.stop()));
    },
  };
}
