import type { Idempotent } from '../../db/idempotency.js';
import { AppError } from '../../shared/errors.js';
import type { TokenLink } from '../queue/queue.store.js';

export interface HoldRequest {
  userId: number;
  concertId: number;
  seatId: number;
  holdUuid: string;
}

/** A hold as the client sees it (and as a seatHoldUuid replay returns it, byte for byte). */
export interface HoldDto {
  concertId: number;
  seatId: number;
  seatNumber: number;
  expiresAt: string;
}

/**
 * Seat holds. The database decides: one row per seat, taken over only when expired, never
 * when sold; one HELD row per user, so a new hold replaces the user's previous one in the same
 * transaction (or fails and leaves the previous one in place).
 */
export interface HoldStore {
  hold(request: HoldRequest, token: TokenLink): Promise<Idempotent<HoldDto>>;
  /** Releases the user's live hold in this concert; null when there is none. */
  release(userId: number, concertId: number, token: TokenLink): Promise<HoldDto | null>;
  /** Releases every hold of the user (leaving the line). */
  releaseAll(userId: number): Promise<number>;
}

/**
 * A hold refused because the seat is taken: held by someone else (409 SEAT_ALREADY_HELD) or sold
 * (409 SEAT_ALREADY_RESERVED). `holderId` lets the seat gate remember whose it is, so that user's
 * own repeats still reach the database; it is never part of the reply.
 */
export class SeatTakenError extends AppError {
  constructor(
    readonly seatId: number,
    /** null when the row was gone by the time it was read (released meanwhile). */
    readonly holderId: number | null,
    readonly sold: boolean,
  ) {
    super(
      sold ? 'SEAT_ALREADY_RESERVED' : 'SEAT_ALREADY_HELD',
      sold ? `Seat ${seatId} is sold.` : `Seat ${seatId} is held by someone else.`,
      { field: 'seatId' },
    );
  }
}
