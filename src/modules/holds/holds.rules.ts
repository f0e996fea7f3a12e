/** The claim on a seat as its hold row says (null: no row — nobody ever held it, or released). */
export interface SeatClaim {
  status: 'HELD' | 'SOLD';
  ownerId: number;
  /** HELD and not yet expired. */
  live: boolean;
}

export type PaymentRefusal = 'HOLD_REQUIRED' | 'HOLD_EXPIRED' | 'SEAT_ALREADY_RESERVED';

/** Why `userId` may not pay for a seat with this claim; null when they may (their live hold). */
export function paymentRefusal(claim: SeatClaim | null, userId: number): PaymentRefusal | null {
  if (claim === null) return 'HOLD_REQUIRED';
  if (claim.status === 'SOLD') return 'SEAT_ALREADY_RESERVED';
  if (claim.ownerId !== userId) return 'HOLD_REQUIRED';
  return claim.live ? null : 'HOLD_EXPIRED';
}

/**
 * A hold that could not take the seat (the row was a live hold or a sale): the user's own live
 * hold is returned as it is (a repeat never extends it); anything else is a conflict.
 */
export function blockedHold(
  claim: SeatClaim | null,
  userId: number,
): 'REPEAT' | 'SEAT_ALREADY_RESERVED' | 'SEAT_ALREADY_HELD' {
  if (claim?.status === 'SOLD') return 'SEAT_ALREADY_RESERVED';
  if (claim?.ownerId === userId && claim.live) return 'REPEAT';
  return 'SEAT_ALREADY_HELD';
}
