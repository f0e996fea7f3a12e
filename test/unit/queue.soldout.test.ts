import pino from 'pino';
import { describe, expect, it, vi } from 'vitest';
import type { QueueStore, TokenView } from '../../src/modules/queue/queue.store.js';
import {
  createSoldOutRooms,
  soldOutAware,
  withSoldOut,
} from '../../src/modules/queue/queue.soldout.js';
import type { RoomSettings } from '../../src/modules/rooms/rooms.store.js';

const logger = pino({ level: 'silent' });
const view = (roomId: number, status: string, position = 0): TokenView => ({
  token: `${roomId}.${status}`,
  userId: 1,
  roomId,
  status: status as TokenView['status'],
  position,
  expiresAt: null,
});
const room = (roomId: number, state: RoomSettings['state'] = 'open'): RoomSettings => ({
  roomId,
  maxActive: 5,
  admissionPerMinute: null,
  state,
});

describe('sold-out rooms (decision 0057)', () => {
  it('reports a change only when the set changes, and keeps the last flags when the read fails', async () => {
    const reads: (number[] | Error)[] = [[7], [7], [7, 8], new Error('database away'), []];
    const flags = createSoldOutRooms(() => {
      const next = reads.shift();
      return next instanceof Error ? Promise.reject(next) : Promise.resolve(next ?? []);
    }, logger);
    expect(flags.has(7)).toBe(false);
    expect(await flags.refresh()).toEqual({ read: true, changed: true });
    expect(await flags.refresh()).toEqual({ read: true, changed: false });
    expect(await flags.refresh()).toEqual({ read: true, changed: true });
    expect(await flags.refresh()).toEqual({ read: false, changed: false });
    expect([flags.has(7), flags.has(8)]).toEqual([true, true]);
    expect(await flags.refresh()).toEqual({ read: true, changed: true });
    expect(flags.has(7)).toBe(false);
  });

  it('tells every not-yet-admitted token of a sold-out room SOLD_OUT with its place, on every read path', async () => {
    const flags = {
      has: (roomId: number) => roomId === 7,
      refresh: () => Promise.resolve({ read: true, changed: false }),
    };
    const joined = vi.fn((_user: number, settings?: RoomSettings) =>
      Promise.resolve({ ...view(7, 'WAITING', 3), settings } as TokenView),
    );
    const inner = {
      join: joined,
      poll: (token: string) =>
        Promise.resolve(token === 'pre' ? view(7, 'PRE_QUEUE') : view(8, 'WAITING', 2)),
      watch: () =>
        Promise.resolve({
          views: new Map([
            ['a', view(7, 'WAITING', 1)],
            ['b', view(7, 'ACTIVE')],
            ['c', view(7, 'EXPIRED')],
            ['d', view(8, 'WAITING', 1)],
          ]),
          admissionRate: 0,
        }),
      admit: () => Promise.resolve({ expired: 0, admitted: 0, active: 0, waiting: 0 }),
    } as unknown as QueueStore;
    const store = withSoldOut(inner, flags, { changed: () => undefined });
    const joinedView = await store.join(1, room(7));
    expect([joinedView.status, joinedView.position]).toEqual(['SOLD_OUT', 3]);
    // The store sees the room paused: a join is never ACTIVE at once in a sold-out sale.
    expect(joined.mock.calls[0]?.[1]?.state).toBe('paused');
    // A pre-queue entry moved into the line keeps the token its buyer holds (queue.opening.ts).
    await store.join(2, room(8), '8.chosen-token');
    expect(joined.mock.calls[1]).toEqual([2, room(8), '8.chosen-token']);
    expect((await store.poll('pre'))?.status).toBe('SOLD_OUT');
    expect((await store.poll('other'))?.status).toBe('WAITING');
    const watched = await store.watch(['a', 'b', 'c', 'd']);
    expect([...watched.views.values()].map((v) => `${v.status}:${v.position}`)).toEqual([
      'SOLD_OUT:1',
      'ACTIVE:0',
      'EXPIRED:0',
      'WAITING:1',
    ]);
  });

  it('refreshes the flags inside each admission run, before the store decides (its prepare step), wakes the streams on a change, and tells the store whether they were read', async () => {
    const order: string[] = [];
    const reads = [
      { read: true, changed: true },
      { read: false, changed: false },
    ];
    const flags = {
      has: () => false,
      refresh: () => {
        order.push('refresh');
        return Promise.resolve(reads.shift() ?? { read: true, changed: false });
      },
    };
    const prepared: boolean[] = [];
    const inner = {
      admit: async (prepare?: () => Promise<boolean>) => {
        order.push('reads its freed counts');
        prepared.push((await prepare?.()) ?? false);
        order.push('admits');
        return { expired: 0, admitted: 0, active: 0, waiting: 0 };
      },
    } as unknown as QueueStore;
    const store = withSoldOut(inner, flags, { changed: () => order.push('changed') });
    await store.admit(() => Promise.resolve(order.push('outer prepare') > 0));
    expect(order).toEqual([
      'reads its freed counts',
      'outer prepare',
      'refresh',
      'changed',
      'admits',
    ]);
    // A failed read (PostgreSQL away) is reported, so the store keeps the counts of its last read.
    await store.admit();
    expect(prepared).toEqual([true, false]);
  });

  it('shows a sold-out room paused to the Redis stores, a closed one as it is', () => {
    const directory = {
      settings: (roomId: number) => room(roomId, roomId === 9 ? 'closed' : 'open'),
    };
    const aware = soldOutAware(directory, { has: (roomId) => roomId !== 6 });
    expect(aware.settings(7)?.state).toBe('paused');
    expect(aware.settings(9)?.state).toBe('closed');
    expect(aware.settings(6)?.state).toBe('open');
  });
});
