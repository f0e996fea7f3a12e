import type { Idempotent } from '../../db/idempotency.js';
import type { TokenLink } from '../queue/queue.store.js';

export interface PaymentRequest {
  userId: number;
  seatId: number;
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

export interface ReservationSummary {
  reservationId: number;
  concertId: number;
  concertTitle: string;
  concertDateTime: string;
  seatId: number;
  seatNumber: number;
  price: number;
  reservedAt: string;
}

export interface ReservationStore {
  /**
   * Pays for the user's live hold in one transaction: balance debit, ledger row, reservation,
   * hold marked sold, token expired (when linked), outbox event. All or nothing.
   */
  pay(request: PaymentRequest, token: TokenLink): Promise<Idempotent<ReservationDto>>;
  listByUser(userId: number, limit: number): Promise<ReservationSummary[]>;
}
