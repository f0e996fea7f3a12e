import { expect, it } from 'vitest';
import type { RoomSettings } from '../../src/modules/rooms/rooms.store.js';
import type { QueueStore } from '../../src/modules/queue/queue.store.js';
import type { QueueContractOptions, QueueHarness } from './queue.contract.js';

/** Room ids of this suite: concerts the harness creates (postgres) or only names (redis). */
const ROOM_A = 9_101;
const ROOM_B = 9_102;

const room = (roomId: number, change: Partial<RoomSettings> = {}): RoomSettings => ({
  roomId,
  maxActive: 2,
  admissionPerMinute: null,
  state: 'open',
  ...change,
});

/**
 * The rooms part of the QueueStore contract (docs/rooms.md), identical for every backend: each
 * room its own line, positions, cap, state and admission rate; one token per user per room.
 * `fresh` opens an empty waiting room whose stores read the room settings saved with `save`.
 */
export function queueRoomsContract(
  fresh: (options?: Partial<QueueContractOptions>) => Promise<QueueHarness>,
  settings: Map<number, RoomSettings>,
): void {
  const save = async (harness: QueueHarness, ...rooms: RoomSettings[]) => {
    for (const each of rooms) settings.set(each.roomId, each);
    await harness.saveRooms(rooms);
  };
  const place = async (store: QueueStore, token: string) => {
    const view = await store.poll(token);
    if (!view) throw new Error(`token ${token} is unknown`);
    return [view.status, view.position] as const;
  };

  it('keeps a line per room: own tokens, own positions, one token per user per room', async () => {
    const { store, ...harness } = await fresh();
    await save(
      { store, ...harness },
      room(ROOM_A, { state: 'paused' }),
      room(ROOM_B, { state: 'paused' }),
    );
    const a1 = await store.join(1, settings.get(ROOM_A));
    const a2 = await store.join(2, settings.get(ROOM_A));
    const b2 = await store.join(2, settings.get(ROOM_B));
    const h2 = await store.join(2);
    // The same user holds a token in each room and in the house room, each first in its line.
    expect(new Set([a2.token, b2.token, h2.token]).size).toBe(3);
    expect(a1.token.startsWith(`${ROOM_A}.`)).toBe(true);
    expect(b2.token.startsWith(`${ROOM_B}.`)).toBe(true);
    expect([a1.roomId, b2.roomId, h2.roomId]).toEqual([ROOM_A, ROOM_B, 0]);
    expect(await place(store, a1.token)).toEqual(['WAITING', 1]);
    expect(await place(store, a2.token)).toEqual(['WAITING', 2]);
    expect(await place(store, b2.token)).toEqual(['WAITING', 1]);
    // Re-entry into a room returns that room's token, same place.
    const again = await store.join(2, settings.get(ROOM_A));
    expect([again.token, again.position]).toEqual([a2.token, 2]);
    expect((await store.find(b2.token))?.roomId).toBe(ROOM_B);
    // Leaving one room leaves the others alone; positions behind it move up.
    await store.expire(a1.token);
    expect(await place(store, a2.token)).toEqual(['WAITING', 1]);
    expect(await place(store, b2.token)).toEqual(['WAITING', 1]);
    expect(await store.roomStats(ROOM_A)).toMatchObject({ waiting: 1, active: 0 });
  });

  it('caps each room by its own maxActive; paused admits nobody until resumed, in line order', async () => {
    const harness = await fresh();
    const { store } = harness;
    await save(
      harness,
      room(ROOM_A, { maxActive: 1, state: 'paused' }),
      room(ROOM_B, { maxActive: 3 }),
    );
    const a = [];
    for (const user of [1, 2, 3]) a.push(await store.join(user, settings.get(ROOM_A)));
    const b = [];
    for (const user of [1, 2, 3, 4]) b.push(await store.join(user, settings.get(ROOM_B)));
    await store.admit();
    await store.admit();
    // Paused: the whole line waits, in place.
    for (const [i, view] of a.entries())
      expect(await place(store, view.token)).toEqual(['WAITING', i + 1]);
    // Room B fills its own three slots and no more.
    expect((await store.roomStats(ROOM_B)).active).toBe(3);
    expect(await place(store, b[3]!.token)).toEqual(['WAITING', 1]);
    await save(harness, room(ROOM_A, { maxActive: 1, state: 'open' }));
    await store.admit();
    expect(await place(store, a[0]!.token)).toEqual(['ACTIVE', 0]);
    expect(await place(store, a[1]!.token)).toEqual(['WAITING', 1]);
    expect((await store.roomStats(ROOM_A)).active).toBe(1);
  });

  it('queue-all: a join never becomes ACTIVE at once, admission by cap goes on; closed keeps admitting its line', async () => {
    const harness = await fresh();
    const { store } = harness;
    await save(harness, room(ROOM_A, { state: 'queue-all' }));
    const first = await store.join(1, settings.get(ROOM_A));
    expect([first.status, first.position]).toEqual(['WAITING', 1]);
    await store.admit();
    expect(await place(store, first.token)).toEqual(['ACTIVE', 0]);
    const second = await store.join(2, settings.get(ROOM_A));
    expect(second.status).toBe('WAITING');
    await save(harness, room(ROOM_A, { state: 'closed' }));
    await store.admit();
    expect(await place(store, second.token)).toEqual(['ACTIVE', 0]);
  });

  it('never admits faster than the room rate, across two instances admitting at once', async () => {
    const harness = await fresh();
    const { store } = harness;
    const other = await harness.instance();
    await save(harness, room(ROOM_A, { maxActive: 100, admissionPerMinute: 60 }));
    const views = [];
    for (let user = 1; user <= 8; user++) views.push(await store.join(user, settings.get(ROOM_A)));
    const started = Date.now();
    while (Date.now() - started < 2_200) {
      await Promise.all([store.admit(), other.admit(), store.admit(), other.admit()]);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    const elapsed = (Date.now() - started) / 1000;
    const active = (await store.roomStats(ROOM_A)).active;
    // 60 a minute: one a second, plus the bucket's one second of allowance at the start.
    expect(active).toBeGreaterThanOrEqual(2);
    expect(active).toBeLessThanOrEqual(1 + Math.ceil(elapsed));
    // In line order: the admitted are the first ones.
    for (const [i, view] of views.entries())
      expect((await place(store, view.token))[0]).toBe(i < active ? 'ACTIVE' : 'WAITING');
  });

  it("measures each room's own steady admission rate for the estimates; one run's burst alone counts for nothing", async () => {
    const harness = await fresh();
    const { store } = harness;
    await save(harness, room(ROOM_A), room(ROOM_B));
    const a = [];
    const b = [];
    for (const user of [1, 2, 3, 4]) {
      a.push(await store.join(user, settings.get(ROOM_A)));
      b.push(await store.join(user, settings.get(ROOM_B)));
    }
    await store.admit();
    // Each room admitted its two at one instant: a burst, no pace yet (decision 0058).
    const first = await store.watch([a[2]!.token, b[2]!.token]);
    expect([first.rates.get(ROOM_A), first.rates.get(ROOM_B), first.admissionRate]).toEqual([
      0, 0, 0,
    ]);
    // Fifteen seconds on, room A admits one more, and one more fifteen seconds later: two
    // buckets of the minute's six have admissions after the first run, which starts the span.
    expect(await store.expire(a[0]!.token)).toBe(true);
    await harness.travel(15);
    await store.admit();
    expect(await place(store, a[2]!.token)).toEqual(['ACTIVE', 0]);
    expect(await store.expire(a[1]!.token)).toBe(true);
    await harness.travel(15);
    await store.admit();
    const { rates, admissionRate } = await store.watch([a[3]!.token, b[3]!.token]);
    // Runs 30 s (2, the start), 15 s (1) and 0 s (1) ago: 2 in the 30 s since the first run.
    expect(rates.get(ROOM_A)).toBeCloseTo(2 / 30, 2);
    expect(rates.get(ROOM_B)).toBe(0);
    expect(rates.get(0)).toBe(0);
    expect(admissionRate).toBe(0);
  });

  it('serves 1,000 rooms with one waiting buyer each in one bounded admission run', async () => {
    const harness = await fresh();
    const { store } = harness;
    const rooms = Array.from({ length: 1_000 }, (_, i) => room(20_000 + i, { state: 'queue-all' }));
    await save(harness, ...rooms);
    const views = await Promise.all(rooms.map((each, i) => store.join(i + 1, each)));
    expect(views.every((view) => view.status === 'WAITING')).toBe(true);
    const started = performance.now();
    const run = await store.admit();
    const ms = performance.now() - started;
    console.info(`admission run over 1,000 rooms with one waiting buyer each: ${ms.toFixed(0)} ms`);
    expect(run.admitted).toBe(1_000);
    expect(ms).toBeLessThan(5_000);
    // Nothing left to do: the next run is the cost of idle rooms.
    const idleStarted = performance.now();
    expect((await store.admit()).admitted).toBe(0);
    console.info(
      `the next run (nobody waiting): ${(performance.now() - idleStarted).toFixed(0)} ms`,
    );
  }, 60_000);
}
