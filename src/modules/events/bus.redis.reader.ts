import { duplicateRedis, type RedisClient } from '../../redis/client.js';
import { decodeEvent } from './bus.shared.js';
import type { GroupMember, MemberShards } from './bus.redis.shards.js';
import type { OutboxEvent } from './events.js';

/** One stream entry as XREADGROUP returns it; fields are null for an entry trimmed while pending. */
export type Entry = [id: string, fields: string[] | null];
export type ReadReply = [stream: string, entries: Entry[]][] | null;

/** Handles entries of one shard in order; false when the handler threw (the shard then rests). */
export type HandleEntries = (shard: number, entries: Entry[]) => Promise<boolean>;

/**
 * The group's handler over stream entries: in order, acknowledging (XACK) those handled. An
 * entry that is not an event, or was trimmed (retention) before the group handled it, is logged
 * and acknowledged. A handler that throws leaves its entry and those behind it pending, and the
 * shard rests until they are delivered again from the pending list.
 */
export function entryHandler(
  member: GroupMember,
  shards: Pick<MemberShards, 'failed'>,
  handler: (event: OutboxEvent) => Promise<void>,
): HandleEntries {
  const { redis, keys, group, logger } = member;
  return async (shard, entries) => {
    const stream = keys.stream(shard);
    const done: string[] = [];
    try {
      for (const [id, fields] of entries) {
        const event = fields ? decodeEvent(fieldOf(fields, 'event')) : undefined;
        if (!event) {
          logger.error(
            { stream, id, group },
            fields
              ? 'stream entry is not an event; skipped'
              : 'stream entry was trimmed (retention) before this group handled it; skipped',
          );
          done.push(id);
          continue;
        }
        try {
          await handler(event);
        } catch (error) {
          logger.warn(
            { err: error, group, eventId: event.eventId, stream },
            'event handler failed; the event will be delivered again',
          );
          // It and everything behind it in this shard stay pending, delivered again in order.
          shards.failed(shard);
          return false;
        }
        done.push(id);
      }
      return true;
    } finally {
      if (done.length > 0) await redis.xack(stream, group, ...done);
    }
  };
}

export interface GroupReader {
  /** Whether the blocking connection is up. */
  connected(): boolean;
  /** Waits up to `blockMs` for entries new to the group on the `ready` shards and handles them. */
  readNew(ready: number[]): Promise<void>;
  /** Ends a blocking read at once (the batch in hand is finished by the caller). */
  disconnect(): void;
}

/**
 * Reads what is new to the group with XREADGROUP BLOCK on a connection of its own: a BLOCK on the
 * shared client would stall every other command queued behind it. No command timeout on it; a
 * client-side guard of BLOCK + 2 s.
 */
export function groupReader(
  member: GroupMember,
  options: { batchSize: number; blockMs: number; handle: HandleEntries },
): GroupReader {
  const { group, me } = member;
  const { batchSize, blockMs, handle } = options;
  const shardOfStream = new Map(member.streams.map((stream, shard) => [stream, shard]));
  const reader: RedisClient = duplicateRedis(member.redis, {
    commandTimeout: undefined,
    blockingTimeout: blockMs,
    blockingTimeoutGrace: 2_000,
    enableAutoPipelining: false,
    connectionName: `overture-events-${group}`,
  });
  reader.on('error', () => undefined); // reported by the member's loop, once per outage

  return {
    connected: () => reader.status === 'ready',

    async readNew(ready) {
      const names = ready.map((shard) => member.keys.stream(shard));
      const reply: ReadReply = await reader.xreadgroup(
        'GROUP',
        group,
        me,
        'COUNT',
        batchSize,
        'BLOCK',
        blockMs,
        'STREAMS',
        ...names,
        ...names.map(() => '>'),
      );
      // Shards are independent: handled side by side, each strictly in order.
      await Promise.all(
        (reply ?? []).map(([stream, entries]) => {
          const shard = shardOfStream.get(stream);
          return shard === undefined ? Promise.resolve(true) : handle(shard, entries);
        }),
      );
    },

    disconnect: () => reader.disconnect(),
  };
}

/** The value of `name` in a flat [field, value, …] list. */
function fieldOf(fields: string[], name: string): string | undefined {
  for (let i = 0; i + 1 < fields.length; i += 2) if (fields[i] === name) return fields[i + 1];
  return undefined;
}
