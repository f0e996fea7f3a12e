import { createHash } from 'node:crypto';
import type { SeatClaim } from '../holds/holds.store.js';

/** Why a seat's claim does not let a user pay for it. */
export type ClaimRefusal = 'HOLD_REQUIRED' | 'HOLD_EXPIRED' | 'SEAT_ALREADY_RESERVED';

/** Why `userId` may not pay for a seat with this claim; null when they may (their live hold). */
export function paymentRefusal(claim: SeatClaim | null, userId: number): ClaimRefusal | null {
  if (claim === null) return 'HOLD_REQUIRED';
  if (claim.status === 'SOLD') return 'SEAT_ALREADY_RESERVED';
  if (claim.ownerId !== userId) return 'HOLD_REQUIRED';
  return claim.live ? null : 'HOLD_EXPIRED';
}

/**
 * What a cancellation refunds: the price minus the fee, a percentage of the price rounded down
 * (the buyer's favour); an operator's cancellation refunds in full (feePercent 0).
 */
export function refundAmount(price: number, feePercent: number): number {
  const percent = Math.min(100, Math.max(0, Math.trunc(feePercent)));
  return price - Math.floor((price * percent) / 100);
}

/**
 * The reservation_uuid of one seat of a multi-seat payment: a UUID derived from the payment's
 * reservationUuid and the seat, so each seat's reservation row is unique per user and key
 * (reservations_user_uuid_key) and a replay would derive the same one.
 */
export function orderLineUuid(reservationUuid: string, seatId: number): string {
  const hex = createHash('sha256').update(`${reservationUuid}:${seatId}`).digest('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-5${hex.slice(13, 16)}-8${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}
