import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { blockedHold } from '../../src/modules/holds/holds.rules.js';
import type { SeatClaim } from '../../src/modules/holds/holds.store.js';
import { paymentRefusal } from '../../src/modules/reservations/reservations.rules.js';

// The two rules on a seat's claim (its hold row): who may pay for it, and what blocks a hold.

const claims = fc.option(
  fc.record({
    status: fc.constantFrom<'HELD' | 'SOLD'>('HELD', 'SOLD'),
    ownerId: fc.integer({ min: 1, max: 4 }),
    live: fc.boolean(),
  }),
  { nil: null },
);

describe('paymentRefusal', () => {
  it('names each refusal', () => {
    expect(paymentRefusal(null, 1)).toBe('HOLD_REQUIRED');
    expect(paymentRefusal({ status: 'SOLD', ownerId: 1, live: false }, 1)).toBe(
      'SEAT_ALREADY_RESERVED',
    );
    expect(paymentRefusal({ status: 'HELD', ownerId: 2, live: true }, 1)).toBe('HOLD_REQUIRED');
    expect(paymentRefusal({ status: 'HELD', ownerId: 1, live: false }, 1)).toBe('HOLD_EXPIRED');
    expect(paymentRefusal({ status: 'HELD', ownerId: 1, live: true }, 1)).toBeNull();
  });

  it("property: a payment is allowed exactly on the payer's own live hold", () => {
    fc.assert(
      fc.property(claims, fc.integer({ min: 1, max: 4 }), (claim: SeatClaim | null, userId) => {
        const allowed = paymentRefusal(claim, userId) === null;
        expect(allowed).toBe(
          claim !== null && claim.status === 'HELD' && claim.ownerId === userId && claim.live,
        );
      }),
    );
  });
});

describe('blockedHold', () => {
  it('returns the own live hold as a repeat and everything else as a conflict', () => {
    expect(blockedHold({ status: 'HELD', ownerId: 1, live: true }, 1)).toBe('REPEAT');
    expect(blockedHold({ status: 'HELD', ownerId: 2, live: true }, 1)).toBe('SEAT_ALREADY_HELD');
    expect(blockedHold({ status: 'SOLD', ownerId: 1, live: false }, 1)).toBe(
      'SEAT_ALREADY_RESERVED',
    );
    expect(blockedHold(null, 1)).toBe('SEAT_ALREADY_HELD');
  });

  it("property: a sale is never reported as a repeat, another user's hold never either", () => {
    fc.assert(
      fc.property(claims, fc.integer({ min: 1, max: 4 }), (claim: SeatClaim | null, userId) => {
        const outcome = blockedHold(claim, userId);
        if (claim?.status === 'SOLD') expect(outcome).toBe('SEAT_ALREADY_RESERVED');
        if (outcome === 'REPEAT') expect(claim?.ownerId).toBe(userId);
      }),
    );
  });
});
