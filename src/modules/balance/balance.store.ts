import type { Idempotent } from '../../db/idempotency.js';

export interface ChargeRequest {
  userId: number;
  amount: number;
  /** Optional Idempotency-Key: the same key returns the first charge's result, never charges twice. */
  idempotencyKey?: string;
}

export interface BalanceStore {
  /** The user's balance; 0 for a user not yet known (reading never creates one). */
  balance(userId: number): Promise<number>;
  /** Adds to the balance and writes the ledger row in one statement. */
  charge(request: ChargeRequest): Promise<Idempotent<{ balance: number }>>;
}
