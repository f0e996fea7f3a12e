import type { SeatClaim } from './holds.store.js';

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
