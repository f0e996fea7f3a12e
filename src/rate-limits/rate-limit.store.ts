import type { FastifyRateLimitStore } from '@fastify/rate-limit';
import type { RedisClient } from '../redis/client.js';
import { defineKeyCountedScript, luaSourceIn } from '../redis/scripts.js';

const COMMAND = 'overtureRateLimitSync';
/** rate-limit.sync.lua lives beside this module. */
const SCRIPTS = new URL('./', import.meta.url);
/** Counters per script call (Lua's unpack and one script's run time stay small). */
const KEYS_PER_CALL = 500;

interface Counter {
  /** Requests in this window as Redis last reported them: every instance's synced requests. */
  shared: number;
  /** This instance's requests not yet added in Redis. */
  pending: number;
  /** Length of the window (ms), for a counter Redis does not have yet. */
  window: number;
  /** When the window ends, on this instance's clock (ms). */
  resetAt: number;
}

type SyncCommand = (keyCount: number, ...args: (string | number)[]) => Promise<number[]>;

export interface SyncedRateLimitStoreOptions {
  redis: RedisClient;
  /** The Redis key of one counter (hash-tagged: one sync call touches many counters). */
  keyOf: (key: string) => string;
  /** How often this instance's counts are added in Redis and the other instances' read back. */
  syncMs: number;
  /** A sync that failed (Redis unavailable): counting goes on locally. */
  onSyncError: (error: unknown) => void;
}

/**
 * A @fastify/rate-limit store for limits shared by many instances without a Redis round trip per
 * request: each instance counts its own requests in memory, and `syncMs` after a request adds
 * them to fixed-window counters in Redis with one script call for all of them, reading back every
 * instance's total. A request is judged on the last total this instance read plus its own
 * requests since, so one instance alone is exact; with several, an instance learns of the others'
 * requests at its next sync, so each may accept at most one sync interval's worth of requests past
 * a limit (never more than the limit from one instance alone). If Redis is unavailable, counts
 * stay local until it returns; a limit never fails a request.
 */
export class SyncedRateLimitStore implements FastifyRateLimitStore {
  private readonly counters = new Map<string, Counter>();
  private readonly dirty = new Set<string>();
  private readonly sync: SyncCommand;
  private timer: NodeJS.Timeout | undefined;
  private syncing: Promise<void> | undefined;
  private nextSweep = 0;

  constructor(private readonly options: SyncedRateLimitStoreOptions) {
    const { redis } = options;
    defineKeyCountedScript(redis, COMMAND, luaSourceIn(SCRIPTS, 'rate-limit.sync'));
    this.sync = (redis as unknown as Record<typeof COMMAND, SyncCommand>)[COMMAND].bind(redis);
  }

  incr(
    key: string,
    callback: (error: Error | null, result?: { current: number; ttl: number }) => void,
    timeWindow: number,
  ): void {
    callback(null, this.count(key, timeWindow));
  }

  /** Counts one request against `key` and returns its window's total so far (no wait, no error). */
  count(key: string, timeWindow: number): { current: number; ttl: number } {
    const now = Date.now();
    let counter = this.counters.get(key);
    if (counter === undefined || counter.resetAt <= now) {
      counter = { shared: 0, pending: 0, window: timeWindow, resetAt: now + timeWindow };
      this.counters.set(key, counter);
    }
    counter.pending++;
    this.dirty.add(key);
    this.timer ??= setTimeout(() => {
      this.timer = undefined;
      this.flush().catch(this.options.onSyncError);
    }, this.options.syncMs).unref();
    return { current: counter.shared + counter.pending, ttl: counter.resetAt - now };
  }

  /** Every limiter shares this store: their keys are distinct. */
  child(): FastifyRateLimitStore {
    return this;
  }

  /** Adds every pending count in Redis now and reads the totals back (one sync at a time). */
  async flush(): Promise<void> {
    // A failed sync is its own caller's to report; this one still sends its counts.
    while (this.syncing !== undefined) await this.syncing.catch(() => undefined);
    this.sweep();
    if (this.dirty.size === 0) return;
    const keys = [...this.dirty];
    this.dirty.clear();
    this.syncing = this.send(keys).finally(() => {
      this.syncing = undefined;
    });
    await this.syncing;
  }

  private async send(keys: string[]): Promise<void> {
    // The pending requests count as shared from now on: a failed call does not count them twice.
    const batch = keys.flatMap((key) => {
      const counter = this.counters.get(key);
      if (counter === undefined) return [];
      const added = counter.pending;
      counter.shared += added;
      counter.pending = 0;
      return [{ key, counter, added }];
    });
    for (let start = 0; start < batch.length; start += KEYS_PER_CALL) {
      const part = batch.slice(start, start + KEYS_PER_CALL);
      const reply = await this.sync(
        part.length,
        ...part.map(({ key }) => this.options.keyOf(key)),
        ...part.flatMap(({ counter, added }) => [added, counter.window]),
      );
      const now = Date.now();
      part.forEach(({ key, counter }, i) => {
        // A counter whose window ended meanwhile was replaced; the reply is about the old window.
        if (this.counters.get(key) !== counter) return;
        counter.shared = reply[2 * i] ?? counter.shared;
        counter.resetAt = now + (reply[2 * i + 1] ?? counter.resetAt - now);
      });
    }
  }

  /** Forgets counters whose window is over (at most once a second). */
  private sweep(): void {
    const now = Date.now();
    if (now < this.nextSweep) return;
    this.nextSweep = now + 1_000;
    for (const [key, counter] of this.counters)
      if (counter.resetAt <= now && counter.pending === 0) this.counters.delete(key);
  }
}
