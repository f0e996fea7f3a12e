import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { redisKeys } from '../../redis/keys.js';
import { luaSource } from '../../redis/scripts.js';
import type { EventBus, Subscription } from './bus.js';
import { pause } from '../../shared/pause.js';
import { decodeEvent, shardOf } from './bus.shared.js';
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

/** One stream entry as XREADGROUP returns it; fields are null for an entry trimmed while pending. */
type Entry = [id: string, fields: string[] | null];
type ReadReply = [stream: string, entries: Entry[]][] | null;
type ShardsScript = (numberOfKeys: number, ...args: (string | number)[]) => Promise<number[]>;

const SHARDS_COMMAND = 'overtureEvents_shards';

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
 */
export function createRedisBus(redis: Redis, options: RedisBusOptions): EventBus {
  const keys = redisKeys(options.keyPrefix).events;
  const { logger, shards, claimIdleMs } = options;
  const batchSize = options.batchSize ?? 100;
  const blockMs = options.blockMs ?? Math.max(10, Math.min(1_000, Math.floor(claimIdleMs / 4)));
  const redeliveryDelayMs = options.redeliveryDelayMs ?? 1_000;
  const trimIntervalMs = options.trimIntervalMs ?? 10_000;
  const retentionMs = options.retentionHours * 3_600_000;
  const streams = Array.from({ length: shards }, (_, shard) => keys.stream(shard));
  const shardOfStream = new Map(streams.map((stream, shard) => [stream, shard]));
  const subscriptions = new Set<Subscription>();

  const commands = redis as unknown as Record<string, ShardsScript | undefined>;
  if (!commands[SHARDS_COMMAND])
    redis.defineCommand(SHARDS_COMMAND, { lua: luaSource('events.shards') });
  const shardsScript = (group: string, me: string, mode: 'rebalance' | 'renew' | 'leave') => {
    const run = commands[SHARDS_COMMAND];
    if (!run) throw new Error(`ioredis did not define ${SHARDS_COMMAND}`);
    const scriptKeys = [
      keys.members(group),
      ...streams.map((_, shard) => keys.lease(group, shard)),
    ];
    return run.call(redis, scriptKeys.length, ...scriptKeys, me, claimIdleMs, mode);
  };

  /** Creates the group on every shard stream (and the stream itself), reading from the start. */
  async function createGroups(group: string): Promise<void> {
    const pipeline = redis.pipeline();
    for (const stream of streams) pipeline.xgroup('CREATE', stream, group, '0', 'MKSTREAM');
    for (const [error] of (await pipeline.exec()) ?? []) {
      if (error && !error.message.startsWith('BUSYGROUP')) throw error;
    }
  }

  /**
   * Trims a stream below the oldest entry any group still needs (its oldest pending entry, or
   * what follows the last entry it was given), or up to the retention time, whichever is later.
   * Approximate (`~`): Redis removes whole nodes only, never an entry at or above MINID.
   */
  async function trim(stream: string): Promise<void> {
    const groups = (await redis.xinfo('GROUPS', stream)) as unknown[][];
    let floor: string | undefined;
    for (const info of groups) {
      const fields = pairs(info);
      const needed =
        Number(fields.get('pending')) > 0
          ? ((await redis.xpending(stream, String(fields.get('name')))) as [number, string])[1]
          : nextId(String(fields.get('last-delivered-id')));
      if (floor === undefined || compareIds(needed, floor) < 0) floor = needed;
    }
    const retained = `${Math.max(0, Date.now() - retentionMs)}-0`;
    const minId = floor === undefined || compareIds(retained, floor) > 0 ? retained : floor;
    await redis.xtrim(stream, 'MINID', '~', minId);
  }

  /** Forgets members of `group` that left long ago and own nothing (each restart is a new name). */
  async function forgetGone(stream: string, group: string, me: string): Promise<void> {
    const consumers = (await redis.xinfo('CONSUMERS', stream, group)) as unknown[][];
    for (const info of consumers) {
      const fields = pairs(info);
      const name = String(fields.get('name'));
      if (
        name !== me &&
        Number(fields.get('pending')) === 0 &&
        Number(fields.get('idle')) > claimIdleMs * 10
      )
        await redis.xgroup('DELCONSUMER', stream, group, name);
    }
  }

  function subscribeGroup(
    group: string,
    handler: (event: OutboxEvent) => Promise<void>,
  ): Subscription {
    const me = `${hostname()}-${process.pid}-${randomBytes(4).toString('hex')}`;
    const stopping = new AbortController();
    // The blocking read's own connection: a BLOCK on the shared client would stall every other
    // command queued behind it. No command timeout on it; a client-side guard of BLOCK + 2 s.
    const reader = redis.duplicate({
      commandTimeout: undefined,
      blockingTimeout: blockMs,
      blockingTimeoutGrace: 2_000,
      enableAutoPipelining: false,
      connectionName: `overture-events-${group}`,
    });
    reader.on('error', () => undefined); // reported by the loop, once per outage

    let owned: number[] = [];
    /** Shards whose pending entries must be handled before anything newer is read. */
    const recovering = new Set<number>();
    /** Shards whose handler threw: not read again before this time. */
    const retryAt = new Map<number, number>();
    let groupsReady = false;
    let lastTrim = 0;
    let failing = false;

    /** Handles entries in order and acknowledges those handled; false when a handler threw. */
    async function handle(shard: number, entries: Entry[]): Promise<boolean> {
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
            retryAt.set(shard, Date.now() + redeliveryDelayMs);
            recovering.add(shard);
            return false;
          }
          done.push(id);
        }
        return true;
      } finally {
        if (done.length > 0) await redis.xack(stream, group, ...done);
      }
    }

    /**
     * Before reading new entries of a shard just taken over, or after a failure: claim what
     * departed members left pending (once idle for claimIdleMs — until then, wait: reading newer
     * entries first would break the order), then handle this member's own pending entries,
     * oldest first. True once nothing is pending.
     */
    async function recover(shard: number): Promise<boolean> {
      const stream = keys.stream(shard);
      const foreign: string[] = [];
      let start = '-';
      for (;;) {
        const page = (await redis.xpending(stream, group, start, '+', 500)) as [
          string,
          string,
          number,
          number,
        ][];
        for (const [id, consumer, idleMs] of page) {
          if (consumer === me) continue;
          if (idleMs < claimIdleMs) return false;
          foreign.push(id);
        }
        const last = page.at(-1);
        if (page.length < 500 || !last) break;
        start = `(${last[0]}`;
      }
      for (let i = 0; i < foreign.length; i += 500) {
        const ids = foreign.slice(i, i + 500);
        await redis.xclaim(stream, group, me, claimIdleMs, ...ids, 'JUSTID');
        logger.info({ stream, group, entries: ids.length }, 'claimed a departed member’s entries');
      }
      for (;;) {
        const reply: ReadReply = await redis.xreadgroup(
          'GROUP',
          group,
          me,
          'COUNT',
          batchSize,
          'STREAMS',
          stream,
          '0',
        );
        const entries = reply?.[0]?.[1] ?? [];
        if (entries.length === 0) {
          recovering.delete(shard);
          return true;
        }
        if (!(await handle(shard, entries))) return false;
      }
    }

    async function rebalance(): Promise<void> {
      const next = (await shardsScript(group, me, 'rebalance')).map(Number);
      for (const shard of next) if (!owned.includes(shard)) recovering.add(shard);
      for (const shard of owned) {
        if (next.includes(shard)) continue;
        recovering.delete(shard);
        retryAt.delete(shard);
      }
      owned = next;
    }

    async function readNew(ready: number[]): Promise<void> {
      const names = ready.map((shard) => keys.stream(shard));
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
    }

    async function iteration(): Promise<void> {
      if (!groupsReady) {
        await createGroups(group);
        groupsReady = true;
      }
      await rebalance();
      if (Date.now() - lastTrim >= trimIntervalMs) {
        lastTrim = Date.now();
        for (const shard of owned) {
          await trim(keys.stream(shard));
          await forgetGone(keys.stream(shard), group, me);
        }
      }
      const ready: number[] = [];
      for (const shard of owned) {
        if ((retryAt.get(shard) ?? 0) > Date.now()) continue;
        if (recovering.has(shard) && !(await recover(shard))) continue;
        ready.push(shard);
      }
      if (failing) {
        failing = false;
        logger.info({ group }, 'redis event bus available again');
      }
      if (ready.length === 0 || reader.status !== 'ready' || stopping.signal.aborted) {
        // Nothing to read yet (shards owned by others, waiting to claim, or connecting).
        await pause(Math.min(blockMs, 250), stopping.signal);
        return;
      }
      await readNew(ready);
    }

    const stopped = () => stopping.signal.aborted;
    const loop = (async () => {
      while (!stopped()) {
        try {
          await iteration();
        } catch (error) {
          if (stopped()) break;
          // Redis lost the group (restarted empty, or the stream was deleted): create it again.
          if (error instanceof Error && error.message.startsWith('NOGROUP')) groupsReady = false;
          if (!failing) {
            failing = true;
            logger.warn({ err: error, group }, 'redis event bus unavailable; retrying');
          }
          // A reply may have been lost with the connection: those entries are pending for us.
          for (const shard of owned) recovering.add(shard);
          await pause(500, stopping.signal);
        }
      }
    })();

    // Keeps leases and membership alive while a long batch is being handled.
    const heartbeat = setInterval(
      () => {
        shardsScript(group, me, 'renew').catch(() => undefined);
      },
      Math.max(10, Math.floor(claimIdleMs / 3)),
    );
    heartbeat.unref();

    const subscription: Subscription = {
      async stop() {
        if (!subscriptions.delete(subscription)) return;
        stopping.abort();
        // Ends a blocking read at once; a batch in hand is finished and acknowledged first.
        reader.disconnect();
        await loop;
        clearInterval(heartbeat);
        // Hands the shards over now instead of after claimIdleMs.
        await shardsScript(group, me, 'leave').catch(() => undefined);
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

/** The value of `name` in a flat [field, value, …] list. */
function fieldOf(fields: string[], name: string): string | undefined {
  for (let i = 0; i + 1 < fields.length; i += 2) if (fields[i] === name) return fields[i + 1];
  return undefined;
}

/** XINFO's flat [field, value, …] reply as a map. */
function pairs(info: unknown[]): Map<string, unknown> {
  const map = new Map<string, unknown>();
  for (let i = 0; i + 1 < info.length; i += 2) map.set(String(info[i]), info[i + 1]);
  return map;
}

function parseId(id: string): [bigint, bigint] {
  const [ms = '0', seq = '0'] = id.split('-');
  return [BigInt(ms), BigInt(seq)];
}

function compareIds(a: string, b: string): number {
  const [aMs, aSeq] = parseId(a);
  const [bMs, bSeq] = parseId(b);
  if (aMs !== bMs) return aMs < bMs ? -1 : 1;
  if (aSeq !== bSeq) return aSeq < bSeq ? -1 : 1;
  return 0;
}

/** The smallest stream id after `id`. */
function nextId(id: string): string {
  const [ms, seq] = parseId(id);
  return `${ms}-${seq + 1n}`;
}
