import type { Idempotent } from '../../db/idempotency.js';
import type { Outcome } from '../../shared/outcome.js';
import type { TokenRefusal } from '../queue/queue.booking.js';
import type { TokenRecord } from '../queue/queue.store.js';

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

/** The claim on a seat as its hold row says (null: no row — nobody ever held it, or released). */
export interface SeatClaim {
  status: 'HELD' | 'SOLD';
  ownerId: number;
  /** HELD and not yet expired. */
  live: boolean;
}

/** The caller's queue token may not do this (decided inside the transaction). */
export interface TokenRefused {
  reason: 'token';
  refusal: TokenRefusal;
}

/** Why the database did not give the seat; the hold service words the reply. */
export type HoldRefusal =
  | TokenRefused
  | { reason: 'concert-not-found' }
  | { reason: 'seat-not-found' }
  | { reason: 'concert-ended' }
  /** Outside the concert's sale window (by the transaction's clock). */
  | { reason: 'sale-not-open' }
  | { reason: 'sale-closed' }
  /** An operator cancelled the show (decided in the hold transaction). */
  | { reason: 'concert-cancelled' }
  /** The buyer already holds or bought the concert's ticket limit of seats (0041). */
  | { reason: 'ticket-limit'; limit: number }
  /**
   * Held by someone else or sold. `holderId` lets the seat gate remember whose it is, so that
   * user's own repeats still reach the database; null when the row was gone by the time it was
   * read (released meanwhile). Never part of the reply.
   */
  | { reason: 'seat-taken'; holderId: number | null; sold: boolean };

/**
 * Seat holds. The database decides: one row per seat, taken over only when expired, never
 * when sold; at most the concert's ticket limit of rows per buyer (0041). At limit 1 a new hold
 * replaces the user's previous one in the same transaction (or fails and leaves the previous one
 * in place); above 1 holds in the same concert add up to the limit.
 */
export interface HoldStore {
  /** Holds the seat for the user of `token`, the caller's queue token, checked in the transaction. */
  hold(
    request: HoldRequest,
    token: TokenRecord,
  ): Promise<Outcome<Idempotent<HoldDto>, HoldRefusal>>;
  /** Releases the user's live hold in this concert. */
  release(
    concertId: number,
    token: TokenRecord,
  ): Promise<Outcome<HoldDto, TokenRefused | { reason: 'no-hold' }>>;
  /** Releases every hold of the user (leaving the line). */
  releaseAll(userId: number): Promise<number>;
}
