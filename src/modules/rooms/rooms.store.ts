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
  /** Leading zero bits a join's proof of work must have; 0 or absent: none (decision 0051). */
  powDifficulty?: number;
  /**
   * The room's scheduled opening (decision 0056). Until `transferred` (every pre-queue entry in
   * the line) joins go through the opening (queue.opening.ts). Absent or null: no opening.
   */
  opening?: { opensAt: string; preQueueOpensAt: string | null; transferred: boolean } | null;
}

export interface Room extends RoomSettings {
  concertId: number;
  powDifficulty: number;
  createdAt: string;
  updatedAt: string;
  opensAt: string | null;
  preQueueOpensAt: string | null;
  /** SHA-256 of the lottery seed, hex; published from the scheduling on. */
  commitment: string | null;
  /** The seed: null until the opening (secret before). */
  seed: string | null;
  openedAt: string | null;
  transferredAt: string | null;
}

export type RoomChange = Partial<
  Pick<RoomSettings, 'maxActive' | 'admissionPerMinute' | 'state' | 'powDifficulty'> & {
    /** The opening (ISO time); null: none. */
    opensAt: string | null;
    /** Start of the pre-queue window (ISO time, before opensAt); null: from the scheduling on. */
    preQueueOpensAt: string | null;
  }
>;

/** Why a scheduled opening cannot be set as asked (rooms.opening.ts). */
export type OpeningRefusal =
  | 'OPENING_IN_PAST'
  | 'PRE_QUEUE_NOT_BEFORE_OPENING'
  | 'ROOM_ALREADY_OPENED'
  | 'OPENING_CANNOT_BE_CLEARED';

export type RoomRefusal = 'ROOM_EXISTS' | 'CONCERT_NOT_FOUND' | 'ROOM_NOT_FOUND' | OpeningRefusal;

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
  /** Rooms whose concert has seats and every one sold (decision 0057). */
  soldOutRooms(): Promise<number[]>;
  /** The same for many concerts in one read (the live estimates' per-room figures). */
  seatsLeftOf(concertIds: readonly number[]): Promise<Map<number, number>>;
}
