import type { Logger } from 'pino';
import type { RoomSettings } from '../rooms/rooms.store.js';
import type { QueueStore, TokenView, WatchedTokens } from './queue.store.js';

/**
 * Sold-out rooms (issue 15 item 7, decision 0057). A room is sold out while its concert has seats
 * and every one is sold (none free, none held). Its line is kept — it doubles as the waiting list —
 * but everyone in it who is not shopping is told SOLD_OUT, and nobody is admitted. When a seat
 * comes back (a refund, a cancellation) the same entries are WAITING again, in the same places,
 * and admission resumes from the head of the line.
 *
 * The flag is read by every instance at the start of each of its admission runs (one query over
 * the rooms, ADMISSION_INTERVAL_MS), so each instance's views, live streams and admission agree
 * with the database within one admission interval.
 */
export interface SoldOutRooms {
  has(roomId: number): boolean;
  /** Reads the sold-out rooms now: whether it could (`read`) and whether the set changed. */
  refresh(): Promise<{ read: boolean; changed: boolean }>;
}

/**
 * `read` failing (PostgreSQL away) keeps the last flags and lets admission go on (logged once per
 * outage): on the Redis backends the house room's line and every room where nobody paid or left
 * since the last read keep moving; a room where someone did waits for a read (decision 0057).
 */
export function createSoldOutRooms(
  read: () => Promise<number[]>,
  logger: Pick<Logger, 'warn' | 'info'>,
): SoldOutRooms {
  let soldOut = new Set<number>();
  let failing = false;
  return {
    has: (roomId) => soldOut.has(roomId),
    async refresh() {
      let rooms: number[];
      try {
        rooms = await read();
      } catch (error) {
        if (!failing)
          logger.warn({ err: error }, 'sold-out rooms: cannot read; keeping the last flags');
        failing = true;
        return { read: false, changed: false };
      }
      if (failing) logger.info('sold-out rooms: read again');
      failing = false;
      const next = new Set(rooms);
      const changed = next.size !== soldOut.size || [...next].some((id) => !soldOut.has(id));
      soldOut = next;
      return { read: true, changed };
    },
  };
}

/** A sold-out room admits nobody: to a store it looks paused (its line kept, joins accepted). */
const pausedIfSoldOut = (
  room: RoomSettings | undefined,
  soldOut: Pick<SoldOutRooms, 'has'>,
): RoomSettings | undefined =>
  room && soldOut.has(room.roomId) && room.state !== 'closed' ? { ...room, state: 'paused' } : room;

/** The rooms' settings as the Redis stores read them in their admission runs. */
export function soldOutAware(
  rooms: { settings(roomId: number): RoomSettings | undefined },
  soldOut: Pick<SoldOutRooms, 'has'>,
): { settings(roomId: number): RoomSettings | undefined } {
  return { settings: (roomId) => pausedIfSoldOut(rooms.settings(roomId), soldOut) };
}

/** What a token in a sold-out room is told: its entry waits (status-agnostic: any place in line). */
const told = (view: TokenView, soldOut: Pick<SoldOutRooms, 'has'>): TokenView =>
  view.status !== 'ACTIVE' && view.status !== 'EXPIRED' && soldOut.has(view.roomId)
    ? { ...view, status: 'SOLD_OUT' }
    : view;

/**
 * The waiting room with sold-out honesty, for every backend: views of tokens in a sold-out room
 * say SOLD_OUT (the service's replies and the live streams read through this), a join there is
 * never admitted at once, and every admission run reads the flags before its store decides (its
 * `prepare` step; `changed`: the live streams push the new status at once). Each backend also
 * admits nobody in a sold-out room: the postgres store checks the seats in its admission
 * statement, the Redis ones see it paused ({@link soldOutAware}) and refuse a slot freed after
 * the flags' read began (decision 0057, "Stale flags").
 */
export function withSoldOut(
  store: QueueStore,
  soldOut: SoldOutRooms,
  options: { changed: () => void },
): QueueStore {
  return {
    ...store,
    async join(userId, room, token) {
      return told(await store.join(userId, pausedIfSoldOut(room, soldOut), token), soldOut);
    },
    joinMany: (room, entries) => store.joinMany(pausedIfSoldOut(room, soldOut) ?? room, entries),
    async poll(token) {
      const view = await store.poll(token);
      return view && told(view, soldOut);
    },
    async watch(tokens): Promise<WatchedTokens> {
      const watched = await store.watch(tokens);
      for (const [token, view] of watched.views) watched.views.set(token, told(view, soldOut));
      return watched;
    },
    admit(prepare) {
      return store.admit(async () => {
        const outer = (await prepare?.()) ?? true;
        const { read, changed } = await soldOut.refresh();
        if (changed) options.changed();
        return outer && read;
      });
    },
  };
}
