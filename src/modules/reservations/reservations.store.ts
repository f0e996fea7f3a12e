import type { Idempotent } from '../../db/idempotency.js';
import type { AuditContext } from '../audit/audit.store.js';
import type { Outcome } from '../../shared/outcome.js';
import type { TokenRefusal } from '../queue/queue.booking.js';
import type { TokenRecord } from '../queue/queue.store.js';
import type { ClaimRefusal } from './reservations.rules.js';

export interface PaymentRequest {
  userId: number;
  seatId: number;
  reservationUuid: string;
}

/** Several held seats of one concert paid together (ticket limit above 1, docs/decisions/0041). */
export interface MultiPaymentRequest {
  userId: number;
  /** Distinct seats, each the user's live hold, all in one concert. */
  seatIds: number[];
  reservationUuid: string;
}

/** A confirmed reservation as the client sees it (and as a reservationUuid replay returns it). */
export interface ReservationDto {
  reservationId: number;
  concertId: number;
  seatId: number;
  seatNumber: number;
  price: number;
  /** Balance right after this payment. */
  balance: number;
  reservedAt: string;
}

/** One seat of a multi-seat payment: its own reservation, refunded on its own. */
export interface OrderLine {
  reservationId: number;
  seatId: number;
  seatNumber: number;
  price: number;
}

/** A multi-seat payment as the client sees it (and as a reservationUuid replay returns it). */
export interface OrderDto {
  concertId: number;
  /** The sum of the lines' prices: what the balance was debited. */
  total: number;
  /** Balance right after this payment. */
  balance: number;
  reservedAt: string;
  /** One reservation per seat, in the order the seats were sent. */
  reservations: OrderLine[];
}

export interface ReservationSummary {
  reservationId: number;
  concertId: number;
  concertTitle: string;
  concertDateTime: string;
  seatId: number;
  seatNumber: number;
  price: number;
  reservedAt: string;
  /** CANCELLED once the buyer or an operator cancelled it (the seat is on sale again). */
  status: 'CONFIRMED' | 'CANCELLED';
  /** What the cancellation refunded; null while confirmed. */
  refundAmount: number | null;
  cancelledAt: string | null;
  /**
   * What cancelling now would refund (the price minus the concert's refund fee); null once
   * cancelled or past the concert's refund cut-off.
   */
  refundQuote: number | null;
}

/** Who cancels: the buyer (only their own reservation, within the refund policy) or an operator. */
export type Canceller =
  { kind: 'buyer'; userId: number } | { kind: 'operator'; audit: AuditContext };

/** A cancelled reservation, as the first cancellation answered it (and every repeat does). */
export interface CancellationDto {
  reservationId: number;
  concertId: number;
  seatId: number;
  seatNumber: number;
  /** What was paid. */
  price: number;
  /** What went back to the balance: the price minus the concert's refund fee (operators: all). */
  refundAmount: number;
  cancelledBy: 'buyer' | 'operator';
  cancelledAt: string;
}

/** Why a cancellation changed nothing. */
export type CancelRefusal =
  /** No such reservation, or (for a buyer) not theirs. */
  | { reason: 'not-found' }
  /** A buyer's cancellation after the concert's refund cut-off. */
  | { reason: 'cutoff-passed'; cutoff: string };

/** A show's cancellation job and how far it got (0039). */
export interface ShowCancelJob {
  concertId: number;
  state: 'running' | 'done';
  reason: string | null;
  requestedBy: string;
  /** Live reservations when it started (plus any payment that committed racing the cancellation). */
  total: number;
  /** Reservations the job cancelled and refunded so far. */
  refunded: number;
  /** Live reservations of the concert left to cancel. */
  remaining: number;
  startedAt: string;
  finishedAt: string | null;
}

/** What one batch of a show-cancel job did; null when no running job was free to take. */
export interface ShowCancelBatch {
  concertId: number;
  refunded: number;
  done: boolean;
}

/** Why a payment changed nothing; the reservation service words the reply. */
export type PaymentRefusal =
  /** The caller's queue token may not pay for this seat (decided inside the transaction). */
  | { reason: 'token'; refusal: TokenRefusal }
  /** `seatId`: which seat of a multi-seat payment. */
  | { reason: 'seat-not-found'; seatId?: number }
  | { reason: 'concert-ended' }
  /** Outside the concert's sale window (by the payment transaction's clock). */
  | { reason: 'sale-not-open' }
  | { reason: 'sale-closed' }
  /** An operator cancelled the show (decided in the payment transaction). */
  | { reason: 'concert-cancelled' }
  /** The seat's hold row is not the payer's live hold (`seatId`: which seat of a multi-seat payment). */
  | { reason: 'claim'; claim: ClaimRefusal; seatId?: number }
  /** A multi-seat payment named seats of more than one concert. */
  | { reason: 'several-concerts' }
  | { reason: 'insufficient-balance'; price: number }
  /** The queue token paid already, in a payment that committed while this one ran. */
  | { reason: 'token-spent' };

export interface ReservationStore {
  /**
   * Pays for the user's live hold in one transaction: balance debit, ledger row, reservation,
   * hold marked sold, the caller's queue token `token` spent, outbox event. All or nothing.
   */
  pay(
    request: PaymentRequest,
    token: TokenRecord,
  ): Promise<Outcome<Idempotent<ReservationDto>, PaymentRefusal>>;
  /**
   * Pays for several of the user's live holds in one concert in one transaction, as `pay` does
   * for one: one debit of the total, one reservation, ledger USE row, sold hold and outbox event
   * per seat, the token spent once. All or nothing: one seat not payable refuses the whole.
   */
  payMany(
    request: MultiPaymentRequest,
    token: TokenRecord,
  ): Promise<Outcome<Idempotent<OrderDto>, PaymentRefusal>>;
  listByUser(userId: number, limit: number): Promise<ReservationSummary[]>;
  /**
   * Cancels a reservation in one transaction: the reservation marked cancelled, the refund
   * credited with its REFUND ledger row, the seat's sold hold removed (the seat is free at
   * once), the outbox event, and for an operator the audit entry. A reservation already
   * cancelled answers its cancellation again (`replayed`), changing nothing.
   */
  cancel(
    reservationId: number,
    by: Canceller,
  ): Promise<Outcome<Idempotent<CancellationDto>, CancelRefusal>>;
  /**
   * Cancels a show in one transaction: the concert marked cancelled (holds and payments refused
   * from the commit on), its live holds released, its job created and the audit entry. A show
   * already cancelled answers its job again (`replayed`).
   */
  cancelShow(
    concertId: number,
    reason: string | null,
    audit: AuditContext,
  ): Promise<Outcome<Idempotent<ShowCancelJob>, { reason: 'concert-not-found' }>>;
  /** The concert's show-cancel job, or null when the show was not cancelled. */
  showCancelJob(concertId: number): Promise<ShowCancelJob | null>;
  /**
   * One batch of a running job that no other transaction holds (the job row is its lease): up to
   * `limit` live reservations cancelled with a full refund by `cancel`'s own statement, progress
   * counted, the job done when none is left. All in one transaction.
   */
  cancelShowBatch(limit: number): Promise<ShowCancelBatch | null>;
}
