import type { Idempotent } from '../../db/idempotency.js';
import { AppError } from '../../shared/errors.js';
import type { BalanceStore, ChargeRefusal, ChargeRequest } from './balance.store.js';

/** The reply to a charge the database refused (nothing was written). */
const refusalError = (refusal: ChargeRefusal): AppError =>
  new AppError('BALANCE_LIMIT_EXCEEDED', `A balance may not exceed ${refusal.maxBalance}.`, {
    field: 'amount',
    maxBalance: refusal.maxBalance,
  });

export function createBalanceService(deps: { store: Pick<BalanceStore, 'balance' | 'charge'> }) {
  const { store } = deps;
  return {
    /** The user's balance; 0 for a user not yet known (reading never creates one). */
    balance: (userId: number): Promise<number> => store.balance(userId),

    /** Adds to the balance; an Idempotency-Key replay returns the first charge's result. */
    async charge(request: ChargeRequest): Promise<Idempotent<{ balance: number }>> {
      const outcome = await store.charge(request);
      if (!outcome.ok) throw refusalError(outcome.refusal);
      return outcome.value;
    },
  };
}

export type BalanceService = ReturnType<typeof createBalanceService>;
