import pino from 'pino';
import { expect, it } from 'vitest';
import { createRedisSeatGate } from '../../src/modules/holds/seat-gate.redis.js';
import type { GateEntry } from '../../src/modules/holds/seat-gate.js';
import { createRedisClient } from '../../src/redis/client.js';
import { redisKeys } from '../../src/redis/keys.js';
import { describeWithRedis, useTestRedis } from '../support/redis.js';

const seat = { concertId: 3, seatId: 41 };
const silent = pino({ level: 'silent' });
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The seat gate's states on a real Redis: decide, wait, refuse, pass, expire, fail open. */
describeWithRedis('seat gate on Redis', () => {
  const testRedis = useTestRedis();

  const gate = (ttlMs = 2_000) => {
    const prefix = testRedis.prefix();
    return {
      seats: createRedisSeatGate(testRedis.client, { keyPrefix: prefix, ttlMs, logger: silent }),
      key: redisKeys(prefix).seatGate(seat.concertId, seat.seatId),
    };
  };
  const decider = (entry: GateEntry) => {
    if (entry.kind !== 'decide') throw new Error(`expected to decide, got ${entry.kind}`);
    return entry;
  };

  it('lets one attempt decide at a time, frees the gate after it, and keeps nothing for later requests', async () => {
    const { seats, key } = gate();
    const first = decider(await seats.enter(seat, 1));
    expect(await testRedis.client.get(key)).toMatch(/^1:/);
    const ttl = await testRedis.client.pttl(key);
    expect(ttl).toBeGreaterThan(1_000);
    expect(ttl).toBeLessThanOrEqual(2_000);
    // The same user's concurrent attempt goes to the database.
    expect(await seats.enter(seat, 1)).toEqual({ kind: 'pass' });
    await first.settle({ held: 1 });
    expect(await testRedis.client.exists(key)).toBe(0);
    // A later request finds the gate free and asks the database itself.
    expect((await seats.enter(seat, 2)).kind).toBe('decide');
    // Another seat is another gate.
    expect((await seats.enter({ concertId: 3, seatId: 42 }, 2)).kind).toBe('decide');
  });

  it('makes other users wait for the decision: refused when it names someone else, passed when it names them', async () => {
    const { seats } = gate();
    const first = decider(await seats.enter(seat, 1));
    const started = performance.now();
    const other = seats.enter(seat, 2);
    const holder = seats.enter(seat, 3);
    await sleep(60);
    await first.settle({ held: 3 });
    expect(await other).toEqual({ kind: 'refuse', holderId: 3, sold: false });
    // User 3 is the holder the database named: the database answers them (a repeat, a replay).
    expect(await holder).toEqual({ kind: 'pass' });
    expect(performance.now() - started).toBeLessThan(1_000);

    const second = decider(await seats.enter(seat, 4));
    const late = seats.enter(seat, 5);
    await sleep(20);
    await second.settle({ sold: 9 });
    expect(await late).toEqual({ kind: 'refuse', holderId: 9, sold: true });
  });

  it('lets a waiter decide itself when the attempt ahead learned nothing others may go by', async () => {
    const { seats } = gate();
    const first = decider(await seats.enter(seat, 1));
    const waiting = seats.enter(seat, 2);
    await sleep(30);
    await first.settle('undecided');
    const next = await waiting;
    expect(next.kind).toBe('decide');
  });

  it('never frees a gate another attempt took over after this one lost it', async () => {
    const { seats, key } = gate(50);
    const stale = decider(await seats.enter(seat, 1));
    await sleep(80);
    const current = decider(await seats.enter(seat, 2));
    const value = await testRedis.client.get(key);
    expect(value).toMatch(/^2:/);
    await stale.settle({ held: 1 });
    expect(await testRedis.client.get(key)).toBe(value);
    await current.settle('undecided');
    expect(await testRedis.client.exists(key)).toBe(0);
  });

  it('lets waiters through once a decider that never settles (crashed) outlived the TTL', async () => {
    const { seats } = gate(200);
    decider(await seats.enter(seat, 1));
    const started = performance.now();
    const next = await seats.enter(seat, 2);
    expect(['decide', 'pass']).toContain(next.kind);
    expect(performance.now() - started).toBeGreaterThanOrEqual(150);
    expect(performance.now() - started).toBeLessThan(1_000);
  });

  it('fails open when Redis does not answer: every attempt goes to the database, said once in the log', async () => {
    const keyPrefix = testRedis.prefix();
    const lines: string[] = [];
    const dead = createRedisClient({ url: 'redis://127.0.0.1:1', commandTimeoutMs: 200 });
    try {
      const seats = createRedisSeatGate(dead, {
        keyPrefix,
        ttlMs: 2_000,
        logger: pino({ level: 'info' }, { write: (line: string) => lines.push(line) }),
      });
      const started = performance.now();
      expect(await seats.enter(seat, 1)).toEqual({ kind: 'pass' });
      expect(await seats.enter(seat, 2)).toEqual({ kind: 'pass' });
      expect(performance.now() - started).toBeLessThan(2_000);
      expect(lines.filter((line) => line.includes('fail open'))).toHaveLength(1);
    } finally {
      dead.disconnect();
    }
  });
});
