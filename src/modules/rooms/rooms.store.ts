import type { AuditContext } from '../audit/audit.store.js';

/** What a room does with joins and admission (docs/rooms.md). */
export type RoomState = 'open' | 'paused' | 'queue-all' | 'closed';

/**
 * A waiting room's live settings. `roomId` is the concert's id, 0 for the house room (every
 * concert without a room of its own; its settings come from the config).
 */
export interface RoomSettings {
  roomId: number;
  /** Cap on ACTIVE shoppers. */
  maxActive: number;
  /** Admissions per minute at most, across all instances; null: no rate limit. */
  admissionPerMinute: number | null;
  state: RoomState;
}

export interface Room extends RoomSettings {
  concertId: number;
  createdAt: string;
  updatedAt: string;
}

export type RoomChange = Partial<Pick<RoomSettings, 'maxActive' | 'admissionPerMinute' | 'state'>>;

export type RoomRefusal = 'ROOM_EXISTS' | 'CONCERT_NOT_FOUND' | 'ROOM_NOT_FOUND';

/** The rooms table: the truth of every room's settings. Changes are audited in their transaction. */
export interface RoomStore {
  create(
    room: { concertId: number } & Required<Pick<RoomSettings, 'maxActive'>> & RoomChange,
    audit: AuditContext,
  ): Promise<Room | RoomRefusal>;
  get(concertId: number): Promise<Room | null>;
  update(concertId: number, change: RoomChange, audit: AuditContext): Promise<Room | RoomRefusal>;
  /**
   * Rooms changed since `since` (all when null), and the database clock of the read: the next
   * read passes it back (with an overlap, see rooms.service.ts).
   */
  changedSince(since: Date | null): Promise<{ rooms: Room[]; now: Date }>;
  /** Seats of the concert not sold (free + held). */
  seatsLeft(concertId: number): Promise<number>;
  /** The same for many concerts in one read (the live estimates' per-room figures). */
  seatsLeftOf(concertIds: readonly number[]): Promise<Map<number, number>>;
}
