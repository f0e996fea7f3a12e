import type { SQL } from 'drizzle-orm';
import type { Executor } from '../../db/client.js';
import type { Outcome } from '../../shared/outcome.js';
import type { AccessRefusal, QueueAction } from './queue.rules.js';
import type { TokenRecord } from './queue.store.js';

/** Why the caller's token may not take part in a booking; the booking's service words it. */
export type TokenRefusal =
  | AccessRefusal
  /** The token was purged from the waiting room while the request ran. */
  | 'TOKEN_GONE'
  /** The token is for another room than the concert's (docs/rooms.md). */
  | 'QUEUE_TOKEN_WRONG_ROOM';

/**
 * The caller's queue token inside one booking transaction (a hold, a release, a payment). Access
 * is decided here, inside the transaction, so an idempotent replay answers first.
 */
export interface BookingToken {
  /**
   * Whether the token, as authenticated, is live at all: asked before any seat is read, so a
   * WAITING token learns nothing about seats.
   */
  live(): AccessRefusal | null;
  /**
   * Whether the token may do the booking's action on `concertId` now. A token kept in the booking
   * database is locked against the expiry sweep and re-read with the transaction's clock (lock
   * order: seat hold row first, then the token row, so bookings never deadlock).
   */
  verify(concertId: number): Promise<Outcome<VerifiedToken, TokenRefusal>>;
}

/** A token the booking transaction verified; what it does here commits with the booking. */
export interface VerifiedToken {
  /** A hold was taken: the token stays alive until the hold expires, for that concert only. */
  extendForHold(holdExpiresAt: Date, concertId: number): Promise<void>;
  /** The hold was released: the token lives its own shopping time again. */
  endHoldExtension(): Promise<void>;
  /**
   * The payment statement's step that spends the token when `paid` holds, or undefined when the
   * token is not kept in the booking database (then `BookingTokens.paid` spends it after commit).
   */
  spendStep(paid: SQL): SQL | undefined;
}

/**
 * The booking transactions' view of the caller's token. Two implementations, one per place a
 * token lives: the booking database itself (queue.booking.postgres.ts: every change inside the
 * booking's transaction, nothing after) or Redis (queue.booking.redis.ts: checked as
 * authenticated, changed after the commit).
 */
export interface BookingTokens {
  /** The token of `record`, for `action`, inside the booking transaction `tx`. */
  open(tx: Executor, record: TokenRecord, action: QueueAction): BookingToken;
  /** After a hold committed: what the waiting room does outside the booking database. */
  holdTaken(record: TokenRecord, holdExpiresAt: Date, concertId: number): Promise<void>;
  /** After a release committed. */
  holdReleased(record: TokenRecord): Promise<void>;
  /** After a payment committed. */
  paid(record: TokenRecord): Promise<void>;
}
