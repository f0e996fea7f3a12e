import type { Idempotent } from '../../db/idempotency.js';
import type { Outcome } from '../../shared/outcome.js';

export interface ChargeRequest {
  userId: number;
  amount: number;
  /** Optional Idempotency-Key: the same key returns the first charge's result, never charges twice. */
  idempotencyKey?: string;
}

/** Why the database did not add the amount (nothing was written); the balance service words the reply. */
export interface ChargeRefusal {
  /** The new balance would pass the maximum a balance may hold. */
  reason: 'balance-limit';
  maxBalance: number;
}

export interface BalanceStore {
  /** The user's balance; 0 for a user not yet known (reading never creates one). */
  balance(userId: number): Promise<number>;
  /** Adds to the balance and writes the ledger row in one statement. */
  charge(request: ChargeRequest): Promise<Outcome<Idempotent<{ balance: number }>, ChargeRefusal>>;
}
