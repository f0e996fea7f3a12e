export interface SeatRef {
  concertId: number;
  seatId: number;
}

/** What the database said to the attempt that held a seat's gate. */
export type SeatDecision =
  | { held: number }
  | { sold: number }
  /** Nothing others may go by (an error, a replay, or the seat's row gone meanwhile). */
  | 'undecided';

export type GateEntry =
  /** This attempt decides the seat: run the database hold, then report what it said. */
  | { kind: 'decide'; settle(decision: SeatDecision): Promise<void> }
  /** Go to the database without the gate: the user's own attempt or seat, or the gate failed open. */
  | { kind: 'pass' }
  /** An attempt that ran while this one waited found the seat someone else's: answer without asking. */
  | { kind: 'refuse'; holderId: number; sold: boolean };

/**
 * A filter in front of the database hold; PostgreSQL still decides every hold, and a lost or
 * expired gate only lets more attempts through to it. One attempt at a time holds a seat's gate
 * while its transaction decides the seat; attempts by other users that arrive meanwhile wait for
 * that decision and, when the seat turned out to be someone else's, get the same 409 without a
 * query. Nothing outlives the decision for later requests: an attempt that finds the gate free
 * asks the database, so answers stay exact (expiry, payment, release need no invalidation). The
 * user the decision names as holder or buyer — and any user's own concurrent attempts — always
 * reach the database, so repeats and seatHoldUuid replays get their normal answers.
 */
export interface SeatGate {
  enter(seat: SeatRef, userId: number): Promise<GateEntry>;
}
