import pino from 'pino';
import { afterEach, expect, it } from 'vitest';
import {
  createSoldOutRooms,
  soldOutAware,
  withSoldOut,
} from '../../src/modules/queue/queue.soldout.js';
import type { RoomSettings } from '../../src/modules/rooms/rooms.store.js';
import type { OpenQueueHarness, QueueHarness } from './queue.contract.js';

const ROOM = 9_201;
const logger = pino({ level: 'silent' });

/**
 * Sold-out flags gone stale, on the Redis backends (issue 15 item 7, decision 0057 "Stale flags").
 * The flags are read from PostgreSQL, the slots live in Redis, and the last seat's payment frees
 * its buyer's slot only after it commits. A run or a join that read the flags before that commit
 * and reaches Redis after the slot freed must admit nobody into it: the sale may be sold out.
 * Each test puts the expiry exactly into that gap (the flags' read expires the token before it
 * answers "not sold out"), so without the freed count both fail on their first check.
 */
export function soldOutFlagsContract(open: OpenQueueHarness): void {
  const harnesses: QueueHarness[] = [];
  afterEach(async () => {
    for (const harness of harnesses.splice(0)) await harness.close();
  });

  /** A concert room of one slot, its sold-out flags read through `flagsRead`, as the service wires them. */
  const saleOfOneSlot = async () => {
    const room: RoomSettings = {
      roomId: ROOM,
      maxActive: 1,
      admissionPerMinute: null,
      state: 'open',
    };
    let read: () => Promise<number[]> = () => Promise.resolve([]);
    const flags = createSoldOutRooms(() => read(), logger);
    const harness = await open({
      maxActive: 2,
      activeTtlSeconds: 60,
      idleSeconds: 100,
      rooms: soldOutAware({ settings: (id) => (id === ROOM ? room : undefined) }, flags),
    });
    harnesses.push(harness);
    await harness.saveRooms([room]);
    const store = withSoldOut(harness.store, flags, { changed: () => undefined });
    return {
      store,
      room,
      flagsRead: (next: () => Promise<number[]>) => (read = next),
      place: async (token: string) => {
        const view = await store.poll(token);
        return [view?.status, view?.position];
      },
    };
  };

  it('a run whose flags were read before the last buyer freed the slot leaves it free; the next run tells the line SOLD_OUT, a seat back admits the head', async () => {
    const { store, room, flagsRead, place } = await saleOfOneSlot();
    const buyer = await store.join(1, room);
    expect(buyer.status).toBe('ACTIVE');
    const next = await store.join(2, room);
    await store.admit();
    expect(await place(next.token)).toEqual(['WAITING', 1]);
    // CI's race: the flags' read began before the payment for the last seat committed ("not sold
    // out"), and the payment's token expired before this run's script.
    flagsRead(async () => {
      await store.expire(buyer.token);
      return [];
    });
    await store.admit();
    expect(await place(next.token)).toEqual(['WAITING', 1]);
    // Flags read after the expiry know: nobody admitted, the line is told.
    flagsRead(() => Promise.resolve([ROOM]));
    await store.admit();
    expect(await place(next.token)).toEqual(['SOLD_OUT', 1]);
    // A seat comes back (a refund): admission resumes from the head of the line.
    flagsRead(() => Promise.resolve([]));
    await store.admit();
    expect(await place(next.token)).toEqual(['ACTIVE', 0]);
  });

  it('a join into the slot the last buyer freed after this instance read its flags waits, and is told SOLD_OUT by the next run', async () => {
    const { store, room, flagsRead, place } = await saleOfOneSlot();
    const buyer = await store.join(1, room);
    expect(buyer.status).toBe('ACTIVE');
    await store.admit();
    // The payment commits the last seat, then frees the slot; this instance's flags are older.
    await store.expire(buyer.token);
    const late = await store.join(2, room);
    expect([late.status, late.position]).toEqual(['WAITING', 1]);
    flagsRead(() => Promise.resolve([ROOM]));
    await store.admit();
    expect(await place(late.token)).toEqual(['SOLD_OUT', 1]);
  });

  it('a run whose flags cannot be read keeps the counts of the last read: the slot freed since stays free until a read says whether the sale sold out', async () => {
    const { store, room, flagsRead, place } = await saleOfOneSlot();
    const buyer = await store.join(1, room);
    const next = await store.join(2, room);
    await store.admit();
    // The last seat's payment commits and frees the slot; then the flags' read fails once (a
    // busy pool): the flags kept are from before the payment.
    await store.expire(buyer.token);
    flagsRead(() => Promise.reject(new Error('timeout exceeded when trying to connect')));
    await store.admit();
    expect(await place(next.token)).toEqual(['WAITING', 1]);
    flagsRead(() => Promise.resolve([ROOM]));
    await store.admit();
    expect(await place(next.token)).toEqual(['SOLD_OUT', 1]);
  });

  it('once flags are read, a join into a room no run here has counted yet is not ACTIVE at once; the next run admits it', async () => {
    const { store, room, place } = await saleOfOneSlot();
    // This instance reads its flags; the room has no work yet, so no count of it was read (on
    // another instance its first buyer may already have paid for its last seat).
    await store.admit();
    const first = await store.join(1, room);
    expect([first.status, first.position]).toEqual(['WAITING', 1]);
    await store.admit();
    expect(await place(first.token)).toEqual(['ACTIVE', 0]);
  });
}
