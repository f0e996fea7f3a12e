import type { Logger } from 'pino';
import { AppError } from '../../shared/errors.js';
import { createLoop, type Worker } from '../../shared/loop.js';
import type { AuditContext } from '../audit/audit.store.js';
import type { SaleListing } from './rooms.listing.js';
import type { Room, RoomChange, RoomRefusal, RoomSettings, RoomStore } from './rooms.store.js';

/** The house room: every concert without a room of its own (docs/rooms.md). */
export const HOUSE_ROOM_ID = 0;

/**
 * Every instance's copy of the rooms' settings, for the waiting room's joins and admission. It
 * reloads the rooms changed since its last read every `intervalMs` (one indexed query whatever
 * the number of rooms), reading 2 s back: a change whose transaction committed after a read
 * began is still seen by the next. docs/decisions/0048-rooms.md.
 */
export interface RoomDirectory extends Worker {
  /** A room's settings as last read here (the house room's always); undefined when unknown. */
  settings(roomId: number): RoomSettings | undefined;
  /** The settings, reading the database when this instance has not seen the room yet. */
  lookup(roomId: number): Promise<RoomSettings | undefined>;
  /** Every room known here, the house room first. */
  all(): RoomSettings[];
  /** Reads the changes now (tests; the loop does it every interval). */
  refresh(): Promise<void>;
  /** A change made on this instance: in effect here at once. */
  applied(room: RoomSettings): void;
}

const READ_OVERLAP_MS = 2_000;

const settingsOf = (room: RoomSettings): RoomSettings => ({
  roomId: room.roomId,
  maxActive: room.maxActive,
  admissionPerMinute: room.admissionPerMinute,
  state: room.state,
  powDifficulty: room.powDifficulty,
  opening: room.opening ?? null,
});

export function createRoomDirectory(
  store: Pick<RoomStore, 'changedSince' | 'get'>,
  options: { house: Omit<RoomSettings, 'roomId'>; intervalMs: number; logger: Logger },
): RoomDirectory {
  const house: RoomSettings = { ...options.house, roomId: HOUSE_ROOM_ID };
  const rooms = new Map<number, RoomSettings>([[HOUSE_ROOM_ID, house]]);
  let since: Date | null = null;

  const refresh = async (): Promise<void> => {
    const read = await store.changedSince(
      since === null ? null : new Date(since.getTime() - READ_OVERLAP_MS),
    );
    for (const room of read.rooms) rooms.set(room.roomId, settingsOf(room));
    since = read.now;
  };
  const loop = createLoop('rooms', options.intervalMs, refresh, options.logger);

  return {
    start: loop.start,
    stop: loop.stop,
    progress: loop.progress,
    settings: (roomId) => rooms.get(roomId),
    async lookup(roomId) {
      const known = rooms.get(roomId);
      if (known) return known;
      const room = await store.get(roomId);
      if (!room) return undefined;
      rooms.set(roomId, settingsOf(room));
      return rooms.get(roomId);
    },
    all: () => [...rooms.values()],
    refresh,
    applied(room) {
      rooms.set(room.roomId, settingsOf(room));
    },
  };
}

/** Operators' rooms: create, read, change; each change audited and in effect here at once. */
export function createRoomService(deps: {
  store: RoomStore;
  directory: Pick<RoomDirectory, 'applied'>;
  defaultMaxActive: number;
  /** Whether challenges can be signed alike on every instance (POW_SECRET; decision 0051). */
  powAvailable: boolean;
  /** The buyers' public concert list (decision 0064). */
  listing: Pick<SaleListing, 'page'>;
}) {
  const { store, directory } = deps;
  // Without a shared secret instances would refuse each other's challenges: nobody could join.
  const checkPow = (change: RoomChange): void => {
    if ((change.powDifficulty ?? 0) > 0 && !deps.powAvailable) throw refusal('POW_UNAVAILABLE');
  };
  const settled = (result: Room | RoomRefusal): Room => {
    if (typeof result === 'string') throw refusal(result);
    directory.applied(result);
    return result;
  };
  return {
    async create(input: { concertId: number } & RoomChange, audit: AuditContext): Promise<Room> {
      checkPow(input);
      return settled(
        await store.create(
          { ...input, maxActive: input.maxActive ?? deps.defaultMaxActive },
          audit,
        ),
      );
    },
    async get(concertId: number): Promise<Room> {
      const room = await store.get(concertId);
      if (!room) throw refusal('ROOM_NOT_FOUND');
      return room;
    },
    async update(concertId: number, change: RoomChange, audit: AuditContext): Promise<Room> {
      checkPow(change);
      return settled(await store.update(concertId, change, audit));
    },
    seatsLeft: (concertId: number) => store.seatsLeft(concertId),
    soldOutRooms: () => store.soldOutRooms(),
    seatsLeftOf: (concertIds: readonly number[]) => store.seatsLeftOf(concertIds),
    /** A page of the buyers' public list (GET /api/v1/queue/rooms). */
    onSale: (page: number, pageSize: number) => deps.listing.page(page, pageSize),
  };
}

export type RoomService = ReturnType<typeof createRoomService>;

export function refusal(code: RoomRefusal | 'ROOM_CLOSED' | 'POW_UNAVAILABLE'): AppError {
  switch (code) {
    case 'OPENING_IN_PAST':
      return new AppError(code, 'The opening time must be in the future.', { field: 'opensAt' });
    case 'PRE_QUEUE_NOT_BEFORE_OPENING':
      return new AppError(code, 'The pre-queue must open before the opening (and needs one).', {
        field: 'preQueueOpensAt',
      });
    case 'ROOM_ALREADY_OPENED':
      return new AppError(code, 'The room has opened: its opening can no longer change.', {
        field: 'opensAt',
      });
    case 'OPENING_CANNOT_BE_CLEARED':
      return new AppError(
        code,
        'The lottery commitment is published: the opening may move, not be removed.',
        { field: 'opensAt' },
      );
    case 'ROOM_EXISTS':
      return new AppError(code, 'The concert already has a waiting room.', { field: 'concertId' });
    case 'CONCERT_NOT_FOUND':
      return new AppError(code, 'No concert has this id.', { field: 'concertId' });
    case 'ROOM_NOT_FOUND':
      return new AppError(code, 'The concert has no waiting room of its own.', {
        field: 'concertId',
      });
    case 'ROOM_CLOSED':
      return new AppError(code, 'The waiting room is closed to new joins.');
    case 'POW_UNAVAILABLE':
      return new AppError(
        code,
        'Rooms cannot require a proof of work without POW_SECRET (the same on every instance).',
        { field: 'powDifficulty' },
      );
  }
}
