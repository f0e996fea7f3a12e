import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { accessError } from '../../src/modules/queue/queue.rules.js';
import type { QueueLog } from '../../src/modules/queue/queue.log.kafka.js';
import { decodeEntry, encodeEntry } from '../../src/modules/queue/queue.log.kafka.js';
import type { QueueStore, TokenView } from '../../src/modules/queue/queue.store.js';
import { redisKeys } from '../../src/redis/keys.js';
import type { RoomSettings } from '../../src/modules/rooms/rooms.store.js';
import { AppError } from '../../src/shared/errors.js';
import { newRoomToken } from '../../src/shared/ids.js';
import { describeWithKafka, startKafkaMock, type KafkaMock } from '../support/kafka.js';
import { describeWithRedis } from '../support/redis.js';
import {
  closeSpares,
  openStreamRoom,
  type StreamRoom,
  type StreamRoomOptions,
} from '../support/stream-queue.js';

/**
 * QUEUE_BACKEND=stream beyond the shared contract (test/contract/queue.stream.test.ts): what an
 * asynchronous log adds — the provisional place before an entry is applied, log order across
 * partitions and instances, at-most-once placement, the log being down, and lost appends.
 */

const ROOM: StreamRoomOptions = {
  maxActive: 1,
  activeTtlSeconds: 60,
  idleSeconds: 100,
  applyWaitMs: 10_000,
};

async function eventually<T>(what: string, read: () => Promise<T>, ok: (value: T) => boolean) {
  const deadline = Date.now() + 20_000;
  for (;;) {
    const value = await read();
    if (ok(value)) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

const place = (view: TokenView | null) => [view?.status, view?.position] as const;

describe('decodeEntry', () => {
  it('reads what encodeEntry wrote (keyed by user) and refuses anything else', () => {
    const entry = { room: 'r', token: 'T'.repeat(32), userId: 42 };
    const encoded = encodeEntry(entry);
    expect(encoded.key).toBe('42');
    expect(decodeEntry(encoded.value)).toEqual(entry);
    for (const bad of [
      undefined,
      'not json',
      '{}',
      JSON.stringify({ ...entry, userId: '42' }),
      JSON.stringify({ ...entry, userId: 1.5 }),
      JSON.stringify({ ...entry, token: 7 }),
    ])
      expect(decodeEntry(bad)).toBeUndefined();
  });
});

describeWithRedis('stream queue backend', () => {
  describeWithKafka('(Kafka log on a mock cluster)', () => {
    let mock: KafkaMock;
    const rooms: StreamRoom[] = [];
    const open = async (options: Partial<StreamRoomOptions> = {}) => {
      const room = await openStreamRoom(mock, { ...ROOM, ...options });
      rooms.push(room);
      return room;
    };
    beforeAll(async () => {
      mock = await startKafkaMock([]);
    });
    afterEach(async () => {
      for (const room of rooms.splice(0)) await room.close();
    });
    afterAll(async () => {
      if (mock) await closeSpares(mock);
      await mock?.stop();
    });

    /**
     * An instance that dies in the middle of its first append: the entry is never sent and nothing
     * is undone; its later appends fail at once (the process is gone).
     */
    const dyingInstance = (room: StreamRoom) => {
      let appends = 0;
      return room.open({
        member: false,
        log: (log) => ({
          ...log,
          append: () =>
            ++appends === 1
              ? new Promise<void>(() => undefined)
              : Promise.reject(new Error('this instance is dead')),
        }),
      });
    };
    const pendingCount = (room: StreamRoom) =>
      room.instances[0]!.client.zcard(redisKeys(room.prefix).queue.pending);

    it('answers a join at once with its provisional place, which its placement then keeps', async () => {
      const room = await open({ maxActive: 1, applyWaitMs: 0, partitions: 1 });
      // No member yet: nothing can be placed, so whatever join answers it answered at once.
      const { queue } = await room.open({ member: false });
      const { store } = queue;
      const joined: TokenView[] = [];
      const started = performance.now();
      for (let user = 1; user <= 5; user++) joined.push(await store.join(user));
      const perJoinMs = (performance.now() - started) / 5;
      // The provisional place: behind the line (empty) and every earlier join.
      expect(joined.map((view) => place(view))).toEqual(
        [1, 2, 3, 4, 5].map((position) => ['WAITING', position]),
      );
      expect(perJoinMs).toBeLessThan(1_000);

      // Until placed, every read agrees: WAITING at that place, no access, no admission.
      expect(await store.join(3)).toMatchObject({ token: joined[2]!.token, position: 3 });
      expect(place(await store.poll(joined[4]!.token))).toEqual(['WAITING', 5]);
      const { views } = await store.watch(joined.map((view) => view.token));
      expect(joined.map((view) => place(views.get(view.token) ?? null))).toEqual(
        joined.map((view) => place(view)),
      );
      const record = (await store.find(joined[0]!.token))!;
      expect(record.userId).toBe(1);
      expect(accessError(record.state, record.now, 100_000, 'browse-concerts')).toBe(
        'QUEUE_TOKEN_NOT_ACTIVE',
      );
      expect(await store.admit()).toMatchObject({ admitted: 0, active: 0, waiting: 0 });
      // Leaving before being placed works; the entry is then skipped when it comes.
      expect(await store.expire(joined[3]!.token)).toBe(true);
      expect(place(await store.poll(joined[4]!.token))).toEqual(['WAITING', 4]);

      // A member joins: the entries are placed in log order, where their provisional places said.
      const placedAfter = performance.now();
      await room.open();
      await eventually(
        'placement',
        () => pendingCount(room),
        (left) => left === 0,
      );
      const placementMs = performance.now() - placedAfter;
      const now = await Promise.all(joined.map((view) => store.poll(view.token)));
      // The head found the line empty and a slot free: ACTIVE at once, as on the Redis backend.
      expect(now.map((view) => place(view))).toEqual([
        ['ACTIVE', 0],
        ['WAITING', 1],
        ['WAITING', 2],
        ['EXPIRED', 0],
        ['WAITING', 3],
      ]);
      process.stdout.write(
        `stream join without waiting: ${perJoinMs.toFixed(1)} ms per join; placed ${placementMs.toFixed(0)} ms after a member joined\n`,
      );
    });

    it('with a running member, a join that does not wait is visible at its final place within moments', async () => {
      const room = await open({ maxActive: 1, applyWaitMs: 0, partitions: 1 });
      const { store } = (await room.open()).queue;
      const first = await store.join(1);
      expect(place(first)).toEqual(['WAITING', 1]);
      const active = await eventually(
        'the first join placed',
        () => store.poll(first.token),
        (view) => view?.status === 'ACTIVE',
      );
      expect(active?.position).toBe(0);
      const answered: number[] = [];
      const visible: number[] = [];
      for (let user = 2; user <= 11; user++) {
        const t0 = performance.now();
        const view = await store.join(user);
        answered.push(performance.now() - t0);
        expect(place(view)).toEqual(['WAITING', user - 1]);
        await eventually(
          'placement',
          () => pendingCount(room),
          (left) => left === 0,
        );
        visible.push(performance.now() - t0);
        expect(place(await store.poll(view.token))).toEqual(['WAITING', user - 1]);
      }
      const median = (values: number[]) => [...values].sort((a, b) => a - b)[values.length >> 1]!;
      process.stdout.write(
        `stream join (no wait) answered in ${median(answered).toFixed(1)} ms (median), placed after ${median(visible).toFixed(1)} ms\n`,
      );
    });

    it('bounds the wait for a placement: without a member, a join answers its provisional place after applyWaitMs', async () => {
      const room = await open({ maxActive: 1, applyWaitMs: 300 });
      const { store } = (await room.open({ member: false })).queue;
      const t0 = performance.now();
      const view = await store.join(1);
      const took = performance.now() - t0;
      expect(place(view)).toEqual(['WAITING', 1]);
      expect(took).toBeGreaterThanOrEqual(290);
      expect(took).toBeLessThan(5_000);
    });

    it('keeps the order of joins that followed each other, across partitions, instances and a member leaving', async () => {
      const applied = [0, 0, 0];
      const room = await open({ maxActive: 5 });
      const counting =
        (index: number) =>
        (log: QueueLog): QueueLog => ({
          ...log,
          consume: (apply) =>
            log.consume((entries, partition) => {
              applied[index]! += entries.length;
              return apply(entries, partition);
            }),
        });
      await room.open({ settle: false, log: counting(0) });
      await room.open({ settle: false, log: counting(1) });
      await room.open({ settle: false, log: counting(2) });
      await room.settled();
      const held = room.instances.map((instance) => instance.queue.worker.assignment());
      // The partitions are shared: each member reads some, together all.
      expect(held.every((partitions) => partitions.length > 0)).toBe(true);
      expect(new Set(held.flat()).size).toBe(6);

      const stores = (): QueueStore[] => room.instances.map((instance) => instance.queue.store);
      const waves: string[][] = [];
      let user = 1_000;
      const wave = async () => {
        const current = stores();
        const views = await Promise.all(
          Array.from({ length: 12 }, (_, i) => current[i % current.length]!.join(++user)),
        );
        waves.push(views.map((view) => view.token));
      };
      for (let i = 0; i < 6; i++) await wave();
      // A member leaves: its partitions move to the others, and the order still holds.
      await room.instances[2]!.stop();
      await room.settled();
      for (let i = 0; i < 2; i++) await wave();
      await stores()[0]!.admit();

      const store = stores()[0]!;
      const views = await Promise.all(waves.flat().map((token) => store.poll(token)));
      const byToken = new Map(views.map((view) => [view!.token, view!]));
      const waiting = views.filter((view) => view!.status === 'WAITING');
      expect(views.filter((view) => view!.status === 'ACTIVE')).toHaveLength(5);
      expect(waiting.map((view) => view!.position).sort((a, b) => a - b)).toEqual(
        Array.from({ length: 96 - 5 }, (_, i) => i + 1),
      );
      // Every join of a wave is ahead of every join of the next (ACTIVE counts as ahead of all).
      const order = (token: string) => {
        const view = byToken.get(token)!;
        return view.status === 'ACTIVE' ? 0 : view.position;
      };
      for (let w = 0; w + 1 < waves.length; w++)
        expect(Math.max(...waves[w]!.map(order))).toBeLessThan(
          Math.min(...waves[w + 1]!.map(order)),
        );
      expect(await pendingCount(room)).toBe(0);
      // Entries were placed by every member that held partitions.
      expect(applied.filter((count) => count > 0).length).toBe(3);
      expect(applied.reduce((a, b) => a + b, 0)).toBeGreaterThanOrEqual(96);
    });

    it('places an entry at most once: repeats, orphans, other rooms, other users and expired pending joins change nothing', async () => {
      const room = await open({ maxActive: 1, partitions: 1 });
      const { store } = (await room.open()).queue;
      const { log, client } = room.instances[0]!;
      const keys = redisKeys(room.prefix).queue;
      const first = await store.join(1);
      const second = await store.join(2);
      const third = await store.join(3);
      expect([first, second, third].map(place)).toEqual([
        ['ACTIVE', 0],
        ['WAITING', 1],
        ['WAITING', 2],
      ]);
      const before = await client.hget(keys.tokens, second.token);
      const orphan = 'O'.repeat(32);
      await log.append({ room: room.prefix, token: second.token, userId: 2 });
      await log.append({ room: room.prefix, token: orphan, userId: 4 });
      await log.append({ room: `${room.prefix}-other`, token: third.token, userId: 3 });
      await log.append({ room: room.prefix, token: third.token, userId: 99 });
      expect(await store.expire(third.token)).toBe(true);
      await log.append({ room: room.prefix, token: third.token, userId: 3 });
      // One partition: this join's entry comes after all of the above, so they were handled.
      const fifth = await store.join(5);
      expect(place(fifth)).toEqual(['WAITING', 2]);

      expect(await client.hget(keys.tokens, second.token)).toBe(before);
      expect(place(await store.poll(second.token))).toEqual(['WAITING', 1]);
      expect(await store.find(orphan)).toBeNull();
      expect(place(await store.poll(third.token))).toEqual(['EXPIRED', 0]);
      expect(await client.zrange(keys.waiting, '0', '-1')).toEqual([second.token, fifth.token]);
      expect(await client.hlen(keys.tokens)).toBe(4);
      expect(await client.zcard(keys.pending)).toBe(0);
    });

    it('answers 503 when the log cannot take a join, undoes the join, and keeps reads and admission going', async () => {
      const room = await open({ maxActive: 1, produceTimeoutMs: 1_000 });
      const { store } = (await room.open()).queue;
      const { client } = room.instances[0]!;
      const keys = redisKeys(room.prefix).queue;
      const first = await store.join(1);
      const second = await store.join(2);
      await mock.command('down -1');
      try {
        const t0 = performance.now();
        const failure = await store.join(3).then(
          () => undefined,
          (error: unknown) => error,
        );
        const took = performance.now() - t0;
        expect(failure).toBeInstanceOf(AppError);
        expect((failure as AppError).code).toBe('SERVICE_UNAVAILABLE');
        expect((failure as AppError).status).toBe(503);
        expect(took).toBeLessThan(5_000);
        // The join is undone: user 3 has no token, nothing is pending.
        expect(await client.hget(keys.users, '3')).toBeNull();
        expect(await client.zcard(keys.pending)).toBe(0);
        expect(await client.hlen(keys.tokens)).toBe(2);
        // Everything that does not append keeps working.
        expect(place(await store.poll(second.token))).toEqual(['WAITING', 1]);
        expect(await store.join(2)).toMatchObject({ token: second.token, position: 1 });
        expect(await store.expire(first.token)).toBe(true);
        expect(await store.admit()).toMatchObject({ admitted: 1, active: 1 });
      } finally {
        await mock.command('up -1');
      }
      const again = await store.join(3);
      expect(place(again)).toEqual(['WAITING', 1]);
      expect(await client.hget(keys.users, '3')).toBe(again.token);
    });

    it('appends again a join whose append was lost, and places it', async () => {
      const room = await open({ maxActive: 1, repairAfterMs: 1_000, repairIntervalMs: 100 });
      const healthy = (await room.open()).queue.store;
      // An instance that dies in the middle of its append: the token is taken, the entry never
      // sent, nothing undone. (Its repair's later appends fail at once: the process is gone.)
      const dying = await dyingInstance(room);
      void dying.queue.store.join(7).catch(() => undefined);
      const keys = redisKeys(room.prefix).queue;
      const taken = await eventually(
        'the pending token',
        () => dying.client.hget(keys.users, '7'),
        (token) => token !== null,
      );
      // The same user asks again elsewhere: the repair appends the lost entry and it is placed.
      const view = await healthy.join(7);
      expect(view.token).toBe(taken);
      expect(place(view)).toEqual(['ACTIVE', 0]);
      expect(await dying.client.zcard(keys.unlogged)).toBe(0);
      expect(await dying.client.zcard(keys.pending)).toBe(0);
    });
    it("appends again a move whose append was lost in the move's order, so the draw order holds", async () => {
      // A paused room: nobody admitted, every place stays as placed.
      const roomId = 9_310;
      const settings: RoomSettings = {
        roomId,
        maxActive: 1,
        admissionPerMinute: null,
        state: 'paused',
        opening: null,
      };
      const room = await open({
        repairAfterMs: 1_000,
        repairIntervalMs: 100,
        rooms: { settings: (id) => (id === roomId ? settings : undefined) },
      });
      await room.open();
      // A mover that dies in the middle of its batch's append, and no mover runs the batch again:
      // the tokens stay pending and unacknowledged until the repair (on the live instance) takes
      // them. More than one repair batch (100), all taken by one script in the same millisecond.
      const dying = await dyingInstance(room);
      const drawn = Array.from({ length: 150 }, (_, i) => ({
        userId: 5_000 + i,
        token: newRoomToken(roomId),
      }));
      void dying.queue.store.joinMany(settings, drawn).catch(() => undefined);
      const keys = redisKeys(room.prefix).room(roomId);
      await eventually(
        'the pending move',
        () => dying.client.zcard(keys.pending),
        (pending) => pending === drawn.length,
      );
      // The repair appends them again; every one is placed, at its place in the draw.
      await eventually(
        'the repaired move placed',
        () => dying.client.zcard(keys.pending),
        (pending) => pending === 0,
      );
      const places = await Promise.all(
        drawn.map(async (entry) => place(await dying.queue.store.poll(entry.token))),
      );
      expect(places).toEqual(drawn.map((_, i) => ['WAITING', i + 1]));
      expect(await dying.client.zcard(keys.unlogged)).toBe(0);
    });
  });
});
