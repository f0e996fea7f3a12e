import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { createOpening, type Opening } from '../../src/modules/queue/queue.opening.js';
import type { PreQueueStore } from '../../src/modules/queue/queue.opening.store.js';
import type { MoveEntry } from '../../src/modules/queue/queue.store.js';
import type { RoomSettings } from '../../src/modules/rooms/rooms.store.js';
import { MORE_WORK } from '../../src/shared/loop.js';

const ROOM = 7;
const room: RoomSettings = {
  roomId: ROOM,
  maxActive: 10,
  admissionPerMinute: null,
  state: 'open',
  opening: { opensAt: new Date().toISOString(), preQueueOpensAt: null, transferred: false },
};
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * A drawn room of `entries` pre-queue entries whose every batch takes `batchMs` at the store:
 * more than one run's budget (250 ms) when there are more than two batches. Records when each
 * run began (each run asks for the due rooms once) and what reached the line, in order.
 */
function drawnRoom(entries: number, batchMs: number) {
  const left = Array.from({ length: entries }, (_, i) => ({
    user_id: i + 1,
    token: `${ROOM}.${i}`,
  }));
  const line: MoveEntry[] = [];
  const runsAt: number[] = [];
  /** When the store last answered a mover (a run's last call ends it). */
  const activity: number[] = [];
  let transferredAt: number | undefined;
  const preQueue: Pick<PreQueueStore, 'due' | 'draw' | 'toMove' | 'moved' | 'finish'> = {
    due: () => {
      runsAt.push(performance.now());
      return Promise.resolve(transferredAt === undefined ? [{ roomId: ROOM, opened: true }] : []);
    },
    draw: () => Promise.resolve(undefined),
    toMove: async (_roomId, limit) => {
      await sleep(batchMs);
      return left.slice(0, limit);
    },
    moved: (_roomId, userIds) => {
      const done = new Set(userIds);
      left.splice(0, left.length, ...left.filter((entry) => !done.has(entry.user_id)));
      activity.push(performance.now());
      return Promise.resolve();
    },
    finish: () => {
      activity.push(performance.now());
      if (left.length > 0) return Promise.resolve(false);
      transferredAt ??= performance.now();
      return Promise.resolve(true);
    },
  };
  return { preQueue, line, runsAt, activity, transferredAt: () => transferredAt };
}

function openingOf(world: ReturnType<typeof drawnRoom>, intervalMs: number): Opening {
  return createOpening({
    preQueue: world.preQueue as PreQueueStore,
    store: {
      joinMany: (_room, entries) => {
        world.line.push(...entries);
        return Promise.resolve();
      },
      poll: () => Promise.resolve(null),
    },
    rooms: { lookup: () => Promise.resolve(room), settings: () => room },
    intervalMs,
    logger: pino({ level: 'silent' }),
  });
}

/**
 * Issue 15 (decision 0066): the opening worker moved one budget's worth of batches (250 ms) and
 * then slept its interval, so a large pre-queue took twice its work time. A run that stops with
 * entries left now says so and the loop goes straight on; with nothing left it sleeps.
 */
describe('opening worker: moves straight on while entries are left, sleeps when idle', () => {
  let started: Opening | undefined;
  afterEach(async () => {
    await started?.stop();
    started = undefined;
  });

  it('a run reports work left when its budget ran out, and none once the room is transferred', async () => {
    const world = drawnRoom(2_000, 100);
    const opening = openingOf(world, 60_000);
    expect(await opening.run()).toBe(MORE_WORK);
    expect(world.line.length).toBeGreaterThan(0);
    expect(world.line.length).toBeLessThan(2_000);
    while ((await opening.run()) === MORE_WORK);
    expect(world.transferredAt()).toBeDefined();
    // Every entry once, in the pre-queue's order.
    expect(world.line.map((entry) => entry.userId)).toEqual(
      Array.from({ length: 2_000 }, (_, i) => i + 1),
    );
    expect(await opening.run()).toBeUndefined();
  });

  it('started, runs back to back until the room is transferred, then once per interval', async () => {
    const intervalMs = 600;
    const world = drawnRoom(2_500, 60);
    started = openingOf(world, intervalMs);
    await started.start();
    while (world.transferredAt() === undefined) await sleep(20);
    const moving = world.runsAt.length;
    // Five batches of 60 ms: more than one run's budget, so several runs…
    expect(moving).toBeGreaterThan(1);
    // …each started right after the one before it ended, not an interval later.
    for (let i = 1; i < moving; i++) {
      const start = world.runsAt[i]!;
      const endBefore = Math.max(...world.activity.filter((at) => at < start));
      expect(start - endBefore).toBeLessThan(intervalMs / 3);
    }
    expect(world.line).toHaveLength(2_500);
    // Nothing left: the loop sleeps its interval between runs.
    await sleep(2 * intervalMs);
    const idle = world.runsAt.slice(moving - 1);
    expect(idle.length).toBeLessThanOrEqual(3);
    for (let i = 1; i < idle.length; i++)
      expect(idle[i]! - idle[i - 1]!).toBeGreaterThanOrEqual(intervalMs - 20);
  });
});
