import { describe, expect, it } from 'vitest';
import type { Idempotent } from '../../src/db/idempotency.js';
import { createBalanceService } from '../../src/modules/balance/balance.service.js';
import type {
  BalanceStore,
  ChargeRefusal,
  ChargeRequest,
} from '../../src/modules/balance/balance.store.js';
import type { Outcome } from '../../src/shared/outcome.js';
import { expectAppError } from '../support/fakes.js';

/**
 * A balance store in memory with the adapter's answers: a charge that would pass `maxBalance`
 * is refused and changes nothing; a key's replay returns the first result, another amount under
 * the same key is the caller's error (runOnce's, not the service's).
 */
function memoryBalanceStore(maxBalance: number) {
  const balances = new Map<number, number>();
  const keys = new Map<string, { balance: number }>();
  const charges: ChargeRequest[] = [];
  const store: BalanceStore = {
    balance: (userId) => Promise.resolve(balances.get(userId) ?? 0),
    charge(request): Promise<Outcome<Idempotent<{ balance: number }>, ChargeRefusal>> {
      charges.push(request);
      const key = request.idempotencyKey && `${request.userId}/${request.idempotencyKey}`;
      const first = key === undefined ? undefined : keys.get(key);
      if (first) return Promise.resolve({ ok: true, value: { value: first, replayed: true } });
      const balance = (balances.get(request.userId) ?? 0) + request.amount;
      if (balance > maxBalance)
        return Promise.resolve({ ok: false, refusal: { reason: 'balance-limit', maxBalance } });
      balances.set(request.userId, balance);
      if (key !== undefined) keys.set(key, { balance });
      return Promise.resolve({ ok: true, value: { value: { balance }, replayed: false } });
    },
  };
  return { store, balances, charges };
}

describe('balance service', () => {
  it('reads the balance from the store: 0 for a user it has never seen', async () => {
    const { store, balances } = memoryBalanceStore(10_000);
    balances.set(7, 2_500);
    const service = createBalanceService({ store });
    expect(await service.balance(7)).toBe(2_500);
    expect(await service.balance(8)).toBe(0);
  });

  it('passes the charge to the store as asked and answers the new balance', async () => {
    const { store, charges } = memoryBalanceStore(10_000);
    const service = createBalanceService({ store });
    expect(await service.charge({ userId: 7, amount: 1_000 })).toEqual({
      value: { balance: 1_000 },
      replayed: false,
    });
    expect(await service.charge({ userId: 7, amount: 500, idempotencyKey: 'k1' })).toEqual({
      value: { balance: 1_500 },
      replayed: false,
    });
    expect(charges).toEqual([
      { userId: 7, amount: 1_000 },
      { userId: 7, amount: 500, idempotencyKey: 'k1' },
    ]);
  });

  it('answers a replayed key with the first result, marked replayed, and charges once', async () => {
    const { store, balances } = memoryBalanceStore(10_000);
    const service = createBalanceService({ store });
    await service.charge({ userId: 7, amount: 700, idempotencyKey: 'k1' });
    expect(await service.charge({ userId: 7, amount: 700, idempotencyKey: 'k1' })).toEqual({
      value: { balance: 700 },
      replayed: true,
    });
    expect(balances.get(7)).toBe(700);
  });

  it('refuses a charge past the maximum balance with BALANCE_LIMIT_EXCEEDED, naming the limit', async () => {
    const { store, balances } = memoryBalanceStore(2_000);
    const service = createBalanceService({ store });
    await service.charge({ userId: 7, amount: 1_500 });
    await expectAppError(
      service.charge({ userId: 7, amount: 600 }),
      'BALANCE_LIMIT_EXCEEDED',
      'A balance may not exceed 2000.',
      { field: 'amount', maxBalance: 2_000 },
    );
    expect(balances.get(7)).toBe(1_500);
    expect(await service.charge({ userId: 7, amount: 500 })).toEqual({
      value: { balance: 2_000 },
      replayed: false,
    });
  });

  it('lets store failures through unchanged', async () => {
    const failure = new Error('connection lost');
    const service = createBalanceService({
      store: { balance: () => Promise.reject(failure), charge: () => Promise.reject(failure) },
    });
    await expect(service.balance(7)).rejects.toBe(failure);
    await expect(service.charge({ userId: 7, amount: 1 })).rejects.toBe(failure);
  });
});
