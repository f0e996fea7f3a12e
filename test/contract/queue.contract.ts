import { afterEach, describe, expect, it } from 'vitest';
import { accessError, effectiveStatus } from '../../src/modules/queue/queue.rules.js';
import type { QueueStore, TokenRecord, TokenView } from '../../src/modules/queue/queue.store.js';
import type { RoomSettings } from '../../src/modules/rooms/rooms.store.js';
import { queueOpeningContract } from './queue.opening.contract.js';
import { queueRoomsContract } from './queue.rooms.contract.js';

export interface QueueContractOptions {
  maxActive: number;
  activeTtlSeconds: number;
  idleSeconds: number;
  /** The rooms' settings as the stores' instance knows them (the room directory). */
  rooms: { settings(roomId: number): RoomSettings | undefined };
}

/** A fresh, empty waiting room on one backend, and the means to drive it like the service does. */
export interface QueueHarness {
  store: QueueStore;
  /** Another store over the same waiting room on its own connection: a second server instance. */
  instance(): Promise<QueueStore>;
  /** Moves the waiting room's clock forward. */
  travel(seconds: number): Promise<void>;
  /**
   * The booking side of a committed hold / a release, as the backend does it: inside the booking
   * transaction (postgres) or through the port's hooks after the commit (redis).
   */
  holdTaken(record: TokenRecord, holdExpiresAt: Date, concertId: number): Promise<void>;
  holdReleased(record: TokenRecord): Promise<void>;
  /** Makes rooms known where the backend reads them (the rooms table for postgres). */
  saveRooms(rooms: RoomSettings[]): Promise<void>;
  close(): Promise<void>;
}

export type OpenQueueHarness = (options: QueueContractOptions) => Promise<QueueHarness>;

/**
 * How long after an ACTIVE token's expiry its slot may still be taken. Reads say EXPIRED from
 * expiresAt on in every backend; the Redis backend frees the slot up to 2 s later so a hold that
 * committed just before expiry can still extend its token (see queue.store.redis.ts).
 */
const SLOT_RELEASE_SLACK_SECONDS = 5;

const TOKEN_FORMAT = /^[A-Za-z0-9_-]{32}$/;

/**
 * The behaviour of the QueueStore port, identical for every adapter: each adapter's test file
 * calls this with a factory for fresh stores and must pass it unchanged.
 */
export function queueStoreContract(open: OpenQueueHarness): void {
  const harnesses: QueueHarness[] = [];
  const rooms = new Map<number, RoomSettings>();
  const fresh = async (options: Partial<QueueContractOptions> = {}) => {
    rooms.clear();
    const harness = await open({
      maxActive: 2,
      activeTtlSeconds: 60,
      idleSeconds: 100,
      rooms: { settings: (roomId) => (roomId === 0 ? undefined : rooms.get(roomId)) },
      ...options,
    });
    harnesses.push(harness);
    return harness;
  };
  afterEach(async () => {
    for (const harness of harnesses.splice(0)) await harness.close();
  });

  /** Joins, then runs admission once (what the service does for a head-of-line join). */
  const join = async (store: QueueStore, userId: number): Promise<TokenView> => {
    const view = await store.join(userId);
    await store.admit();
    return view;
  };
  const status = async (store: QueueStore, token: string) => {
    const view = await store.poll(token);
    if (!view) throw new Error(`token ${token} is unknown`);
    return [view.status, view.position] as const;
  };

  describe('tokens', () => {
    it('are 24 random bytes in base64url, distinct for every user', async () => {
      const { store } = await fresh({ maxActive: 5 });
      const views = await Promise.all(Array.from({ length: 40 }, (_, i) => store.join(100 + i)));
      for (const view of views) {
        expect(view.token).toMatch(TOKEN_FORMAT);
        expect(Buffer.from(view.token, 'base64url')).toHaveLength(24);
      }
      expect(new Set(views.map((view) => view.token)).size).toBe(40);
    });

    it('are tied to one user: find names the user, with the store clock', async () => {
      const { store } = await fresh({ activeTtlSeconds: 60 });
      const { token } = await join(store, 7);
      const record = await store.find(token);
      expect(record).not.toBeNull();
      expect(record!.token).toBe(token);
      expect(record!.userId).toBe(7);
      expect(Math.abs(record!.now.getTime() - Date.now())).toBeLessThan(5_000);
      expect(record!.state.status).toBe('ACTIVE');
      expect(record!.state.holdConcertId).toBeNull();
      expect(record!.state.lastSeenAt.getTime()).toBeLessThanOrEqual(record!.now.getTime());
      const shopping = record!.state.activeUntil!.getTime() - record!.now.getTime();
      expect(shopping).toBeGreaterThan(55_000);
      expect(shopping).toBeLessThanOrEqual(60_000);
      expect(record!.state.expiresAt).toEqual(record!.state.activeUntil);
    });

    it('are unknown when never issued: find and poll answer null, expire false', async () => {
      const { store } = await fresh();
      await store.join(1);
      const unknown = 'A'.repeat(32);
      expect(await store.find(unknown)).toBeNull();
      expect(await store.poll(unknown)).toBeNull();
      expect(await store.expire(unknown)).toBe(false);
    });
  });

  describe('joining', () => {
    it('gives a user with a live token the same token and place again', async () => {
      const { store } = await fresh({ maxActive: 1 });
      const first = await join(store, 1);
      const second = await join(store, 2);
      expect(await status(store, first.token)).toEqual(['ACTIVE', 0]);
      expect(second).toMatchObject({ status: 'WAITING', position: 1 });
      const third = await store.join(3);
      expect(third).toMatchObject({ status: 'WAITING', position: 2 });

      expect(await store.join(1)).toMatchObject({ token: first.token, status: 'ACTIVE' });
      expect(await store.join(2)).toMatchObject({
        token: second.token,
        status: 'WAITING',
        position: 1,
      });
      expect(await store.join(3)).toMatchObject({ token: third.token, position: 2 });
    });

    it('gives one token to one user joining many times at once, across instances', async () => {
      const harness = await fresh({ maxActive: 1 });
      const other = await harness.instance();
      await join(harness.store, 1);
      const views = await Promise.all(
        Array.from({ length: 30 }, (_, i) => (i % 2 === 0 ? harness.store : other).join(2)),
      );
      expect(new Set(views.map((view) => view.token)).size).toBe(1);
      for (const view of views) expect(view).toMatchObject({ status: 'WAITING', position: 1 });
      // The next user is right behind: the storm left exactly one place taken.
      expect(await harness.store.join(3)).toMatchObject({ status: 'WAITING', position: 2 });
    });

    it('makes a token ACTIVE with the first admission when nobody waits and a slot is free', async () => {
      const { store } = await fresh({ maxActive: 3 });
      const view = await store.join(1);
      // Either the join itself admitted it, or it heads the line for the next admission.
      if (view.status === 'ACTIVE') expect(view.position).toBe(0);
      else expect(view).toMatchObject({ status: 'WAITING', position: 1 });
      await store.admit();
      expect(await status(store, view.token)).toEqual(['ACTIVE', 0]);
    });

    it('never lets a newcomer jump the line, even when a slot is free', async () => {
      const { store } = await fresh({ maxActive: 2 });
      const tokens: string[] = [];
      for (let user = 1; user <= 4; user++) tokens.push((await join(store, user)).token);
      expect(await store.expire(tokens[0]!)).toBe(true);
      // A slot is free, but users 3 and 4 wait: user 5 queues behind them.
      const late = await store.join(5);
      expect(late).toMatchObject({ status: 'WAITING', position: 3 });
      const run = await store.admit();
      expect(run).toMatchObject({ admitted: 1, active: 2, waiting: 2 });
      expect(await status(store, tokens[2]!)).toEqual(['ACTIVE', 0]);
      expect(await status(store, tokens[3]!)).toEqual(['WAITING', 1]);
      expect(await status(store, late.token)).toEqual(['WAITING', 2]);
    });
  });

  describe('order and admission', () => {
    it('keeps strict arrival order with exact positions; leaving moves everyone behind up', async () => {
      const { store } = await fresh({ maxActive: 2 });
      const tokens: string[] = [];
      for (let user = 1; user <= 8; user++) tokens.push((await store.join(user)).token);
      await store.admit();
      expect(await Promise.all(tokens.map((token) => status(store, token)))).toEqual([
        ['ACTIVE', 0],
        ['ACTIVE', 0],
        ['WAITING', 1],
        ['WAITING', 2],
        ['WAITING', 3],
        ['WAITING', 4],
        ['WAITING', 5],
        ['WAITING', 6],
      ]);
      // The 3rd in line leaves.
      expect(await store.expire(tokens[4]!)).toBe(true);
      expect(await status(store, tokens[4]!)).toEqual(['EXPIRED', 0]);
      expect(await Promise.all(tokens.slice(5).map((token) => status(store, token)))).toEqual([
        ['WAITING', 3],
        ['WAITING', 4],
        ['WAITING', 5],
      ]);
      // An ACTIVE user leaves: its slot goes to the head of the line, nobody else moves in.
      expect(await store.expire(tokens[0]!)).toBe(true);
      expect(await store.admit()).toMatchObject({ admitted: 1, active: 2, waiting: 4 });
      expect(await status(store, tokens[2]!)).toEqual(['ACTIVE', 0]);
      expect(await status(store, tokens[3]!)).toEqual(['WAITING', 1]);
      expect(await status(store, tokens[7]!)).toEqual(['WAITING', 4]);
    });

    it('reports the counts of each admission run', async () => {
      const { store } = await fresh({ maxActive: 2 });
      for (let user = 1; user <= 5; user++) await store.join(user);
      const run = await store.admit();
      expect(run.active).toBe(2);
      expect(run.waiting).toBe(3);
      expect(run.expired).toBe(0);
      expect(await store.admit()).toEqual({ expired: 0, admitted: 0, active: 2, waiting: 3 });
    });

    it('never exceeds the limit and admits in line order while instances join, leave and admit at once', async () => {
      const LIMIT = 5;
      const harness = await fresh({ maxActive: LIMIT });
      const stores = [harness.store, await harness.instance(), await harness.instance()];
      const pick = (i: number) => stores[i % stores.length]!;
      let admitting = true;
      let maxActiveSeen = 0;
      const admitters = stores.map(async (store) => {
        while (admitting) maxActiveSeen = Math.max(maxActiveSeen, (await store.admit()).active);
      });
      const joined = await Promise.all(
        Array.from({ length: 45 }, (_, i) => pick(i).join(1_000 + i)),
      );
      const tokens = joined.map((view) => view.token);

      // Every round: note the line, free every slot through several instances, and check that
      // exactly the head of the line moved in.
      for (let round = 0; round < 20; round++) {
        await Promise.all(stores.map((store) => store.admit()));
        const views = await Promise.all(tokens.map((token) => pick(round).poll(token)));
        const active = tokens.filter((_, i) => views[i]!.status === 'ACTIVE');
        const line = tokens
          .map((token, i) => ({ token, view: views[i]! }))
          .filter(({ view }) => view.status === 'WAITING')
          .sort((a, b) => a.view.position - b.view.position);
        expect(line.map(({ view }) => view.position)).toEqual(line.map((_, i) => i + 1));
        expect(active.length).toBe(Math.min(LIMIT, active.length + line.length));
        if (active.length === 0) break;
        await Promise.all(active.map((token, i) => pick(i + round).expire(token)));
        await Promise.all(stores.map((store) => store.admit()));
        const nowActive = await Promise.all(
          line
            .slice(0, LIMIT)
            .map(async ({ token }) => (await pick(round + 1).poll(token))!.status),
        );
        expect(nowActive).toEqual(line.slice(0, LIMIT).map(() => 'ACTIVE'));
      }
      admitting = false;
      await Promise.all(admitters);
      expect(maxActiveSeen).toBeGreaterThan(0);
      expect(maxActiveSeen).toBeLessThanOrEqual(LIMIT);
      const final = await Promise.all(tokens.map((token) => harness.store.poll(token)));
      expect(final.every((view) => view!.status === 'EXPIRED')).toBe(true);
    });
  });

  describe('expiry', () => {
    it('expires ACTIVE tokens at expiresAt and gives their slot to the head of the line', async () => {
      const harness = await fresh({ maxActive: 1, activeTtlSeconds: 60 });
      const { store } = harness;
      const first = await join(store, 1);
      const second = await join(store, 2);
      await harness.travel(58);
      await store.admit();
      expect(await status(store, first.token)).toEqual(['ACTIVE', 0]);
      expect(await status(store, second.token)).toEqual(['WAITING', 1]);

      await harness.travel(3);
      expect(await status(store, first.token)).toEqual(['EXPIRED', 0]);
      const record = (await store.find(first.token))!;
      expect(effectiveStatus(record.state, record.now, 100_000)).toBe('EXPIRED');
      expect(accessError(record.state, record.now, 100_000, 'browse-concerts')).toBe(
        'QUEUE_TOKEN_EXPIRED',
      );

      await harness.travel(SLOT_RELEASE_SLACK_SECONDS);
      const run = await store.admit();
      expect(run).toMatchObject({ admitted: 1, active: 1, waiting: 0 });
      expect(run.expired).toBeGreaterThanOrEqual(1);
      expect(await status(store, second.token)).toEqual(['ACTIVE', 0]);
      expect(await status(store, first.token)).toEqual(['EXPIRED', 0]);
    });

    it('expires WAITING tokens not polled within the idle lifetime; polls keep them', async () => {
      const harness = await fresh({ maxActive: 1, idleSeconds: 100, activeTtlSeconds: 1_000 });
      const { store } = harness;
      await join(store, 1);
      const polled = await store.join(2);
      const idle = await store.join(3);
      const behind = await store.join(4);
      await harness.travel(60);
      expect(await status(store, polled.token)).toEqual(['WAITING', 1]);
      expect(await store.join(4)).toMatchObject({ token: behind.token, position: 3 });
      await harness.travel(60);
      // 120 s since idle's last poll; 60 s since the others'.
      expect(await status(store, idle.token)).toEqual(['EXPIRED', 0]);
      const run = await store.admit();
      expect(run.expired).toBe(1);
      expect(await status(store, polled.token)).toEqual(['WAITING', 1]);
      expect(await status(store, behind.token)).toEqual(['WAITING', 2]);
      expect(await status(store, idle.token)).toEqual(['EXPIRED', 0]);
    });

    it('tells a WAITING token its idle deadline; polls move it, find does not', async () => {
      const harness = await fresh({ maxActive: 1, idleSeconds: 100 });
      const { store } = harness;
      await join(store, 1);
      const waiting = await store.join(2);
      const entered = (await store.find(waiting.token))!;
      expect(waiting.expiresAt!.getTime()).toBe(entered.state.lastSeenAt.getTime() + 100_000);
      await harness.travel(50);
      const unpolled = (await store.find(waiting.token))!;
      const left = unpolled.state.lastSeenAt.getTime() + 100_000 - unpolled.now.getTime();
      expect(left).toBeGreaterThan(45_000);
      expect(left).toBeLessThanOrEqual(50_000);
      const polled = (await store.poll(waiting.token))!;
      const after = (await store.find(waiting.token))!;
      expect(polled.expiresAt!.getTime() - after.now.getTime()).toBeGreaterThan(95_000);
      expect(after.state.lastSeenAt.getTime()).toBeGreaterThan(unpolled.state.lastSeenAt.getTime());
    });

    it('never revives an EXPIRED token, which keeps answering EXPIRED', async () => {
      const harness = await fresh({ maxActive: 1, activeTtlSeconds: 60 });
      const { store } = harness;
      const first = await join(store, 1);
      const record = (await store.find(first.token))!;
      expect(await store.expire(first.token)).toBe(true);
      expect(await store.expire(first.token)).toBe(false);
      await harness.holdTaken(record, new Date(record.now.getTime() + 300_000), 9);
      await harness.holdReleased(record);
      await store.admit();
      expect(await status(store, first.token)).toEqual(['EXPIRED', 0]);
      expect((await store.find(first.token))!.state.status).toBe('EXPIRED');

      // Joining again gives a new token; the old one stays EXPIRED.
      const again = await join(store, 1);
      expect(again.token).not.toBe(first.token);
      expect(await status(store, again.token)).toEqual(['ACTIVE', 0]);
      await harness.travel(30);
      await store.admit();
      expect(await status(store, first.token)).toEqual(['EXPIRED', 0]);
      expect((await store.find(first.token))!.userId).toBe(1);
    });

    it('retires a live-looking token that is past its time when its user joins again', async () => {
      const harness = await fresh({ maxActive: 1, activeTtlSeconds: 60 });
      const first = await join(harness.store, 1);
      await harness.travel(61);
      const again = await harness.store.join(1);
      expect(again.token).not.toBe(first.token);
      expect(again.status).not.toBe('EXPIRED');
      expect(await status(harness.store, first.token)).toEqual(['EXPIRED', 0]);
    });
  });

  describe('holds', () => {
    it('keep an ACTIVE token alive until the hold expires, for the hold concert only', async () => {
      const harness = await fresh({ maxActive: 1, activeTtlSeconds: 60 });
      const { store } = harness;
      const shopper = await join(store, 1);
      const next = await join(store, 2);
      const record = (await store.find(shopper.token))!;
      const holdExpiresAt = new Date(record.now.getTime() + 120_000);
      await harness.holdTaken(record, holdExpiresAt, 42);

      const held = (await store.find(shopper.token))!;
      expect(held.state.expiresAt!.getTime()).toBe(holdExpiresAt.getTime());
      expect(held.state.activeUntil).toEqual(record.state.activeUntil);
      expect(held.state.holdConcertId).toBe(42);
      expect((await store.poll(shopper.token))!.expiresAt!.getTime()).toBe(holdExpiresAt.getTime());

      // Past the shopping time: alive for the hold's concert (pay, release), nothing else.
      await harness.travel(61 + SLOT_RELEASE_SLACK_SECONDS);
      await store.admit();
      const late = (await store.find(shopper.token))!;
      expect(effectiveStatus(late.state, late.now, 100_000)).toBe('ACTIVE');
      expect(accessError(late.state, late.now, 100_000, 'pay', 42)).toBeNull();
      expect(accessError(late.state, late.now, 100_000, 'release', 42)).toBeNull();
      expect(accessError(late.state, late.now, 100_000, 'hold', 42)).toBe('QUEUE_TOKEN_EXPIRED');
      expect(accessError(late.state, late.now, 100_000, 'browse-seats', 43)).toBe(
        'QUEUE_TOKEN_EXPIRED',
      );
      // The slot stays taken while the hold keeps the token alive.
      expect(await status(store, next.token)).toEqual(['WAITING', 1]);

      // The hold ends: the token lives its own shopping time again, which is over.
      await harness.holdReleased(late);
      const released = (await store.find(shopper.token))!;
      expect(released.state.expiresAt).toEqual(released.state.activeUntil);
      expect(released.state.holdConcertId).toBeNull();
      expect(effectiveStatus(released.state, released.now, 100_000)).toBe('EXPIRED');
      await harness.travel(SLOT_RELEASE_SLACK_SECONDS);
      await store.admit();
      expect(await status(store, next.token)).toEqual(['ACTIVE', 0]);
      expect(await status(store, shopper.token)).toEqual(['EXPIRED', 0]);
    });

    it('never shorten a token: a hold ending before the shopping time leaves expiresAt alone', async () => {
      const harness = await fresh({ maxActive: 1, activeTtlSeconds: 60 });
      const shopper = await join(harness.store, 1);
      const record = (await harness.store.find(shopper.token))!;
      await harness.holdTaken(record, new Date(record.now.getTime() + 10_000), 5);
      const held = (await harness.store.find(shopper.token))!;
      expect(held.state.expiresAt).toEqual(record.state.activeUntil);
      expect(held.state.holdConcertId).toBe(5);
    });

    it('expire a token kept alive by a hold when the hold time runs out', async () => {
      const harness = await fresh({ maxActive: 1, activeTtlSeconds: 60 });
      const { store } = harness;
      const shopper = await join(store, 1);
      const next = await join(store, 2);
      const record = (await store.find(shopper.token))!;
      await harness.holdTaken(record, new Date(record.now.getTime() + 90_000), 3);
      await harness.travel(91);
      expect(await status(store, shopper.token)).toEqual(['EXPIRED', 0]);
      await harness.travel(SLOT_RELEASE_SLACK_SECONDS);
      await store.admit();
      expect(await status(store, next.token)).toEqual(['ACTIVE', 0]);
    });
  });

  describe('rooms', () => {
    queueRoomsContract(fresh, rooms);
  });

  describe('scheduled opening', () => {
    queueOpeningContract(fresh, rooms);
  });
}
