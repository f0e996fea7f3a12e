import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { estimatedWaitSeconds } from '../../src/modules/queue/queue.rules.js';

describe('estimated wait', () => {
  it('is 0 when ACTIVE and unknown when EXPIRED or when nobody was admitted lately', () => {
    expect(estimatedWaitSeconds('ACTIVE', 0, 0)).toBe(0);
    expect(estimatedWaitSeconds('EXPIRED', 0, 3)).toBeNull();
    expect(estimatedWaitSeconds('WAITING', 10, 0)).toBeNull();
  });

  it('is the position over the admission rate, rounded up to 5 s, 30 s, then whole minutes', () => {
    expect(estimatedWaitSeconds('WAITING', 1, 1)).toBe(5);
    expect(estimatedWaitSeconds('WAITING', 30, 1)).toBe(30);
    expect(estimatedWaitSeconds('WAITING', 31, 1)).toBe(35);
    expect(estimatedWaitSeconds('WAITING', 12, 0.2)).toBe(60);
    expect(estimatedWaitSeconds('WAITING', 61, 1)).toBe(90);
    expect(estimatedWaitSeconds('WAITING', 601, 1)).toBe(660);
    expect(estimatedWaitSeconds('WAITING', 3_000, 2.5)).toBe(1_200);
  });

  it('never promises less than the raw estimate, and grows with the position and shrinks with the rate', () => {
    const position = fc.integer({ min: 1, max: 1_000_000 });
    const rate = fc.double({ min: 0.001, max: 1_000, noNaN: true });
    fc.assert(
      fc.property(position, position, rate, rate, (p1, p2, r1, r2) => {
        const estimate = estimatedWaitSeconds('WAITING', p1, r1)!;
        expect(Number.isInteger(estimate)).toBe(true);
        expect(estimate).toBeGreaterThanOrEqual(p1 / r1);
        const [near, far] = p1 <= p2 ? [p1, p2] : [p2, p1];
        expect(estimatedWaitSeconds('WAITING', near, r1)!).toBeLessThanOrEqual(
          estimatedWaitSeconds('WAITING', far, r1)!,
        );
        const [slow, fast] = r1 <= r2 ? [r1, r2] : [r2, r1];
        expect(estimatedWaitSeconds('WAITING', p1, fast)!).toBeLessThanOrEqual(
          estimatedWaitSeconds('WAITING', p1, slow)!,
        );
      }),
      { numRuns: 2_000 },
    );
  });
});
