import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  RATE_BUCKETS,
  roomAdmissionRate,
  steadyAdmissionRate,
} from '../../src/modules/queue/queue.estimate.js';
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

/**
 * The steady admission rate behind the estimates (queue.estimate.ts, decision 0058): admissions
 * per bucket of the window, the fullest bucket lowered to the second fullest.
 */
describe('steady admission rate', () => {
  const BUCKET_SECONDS = 10;
  /** A room admitting `perBucket` in every bucket of the window. */
  const steady = (perBucket: number) => Array.from({ length: RATE_BUCKETS }, () => perBucket);
  const waitOf = (position: number, counts: number[]) =>
    estimatedWaitSeconds('WAITING', position, steadyAdmissionRate(counts, BUCKET_SECONDS))!;

  it('is the rate itself at a steady pace', () => {
    expect(steadyAdmissionRate(steady(20), BUCKET_SECONDS)).toBeCloseTo(2, 9);
    expect(steadyAdmissionRate([], BUCKET_SECONDS)).toBe(0);
    expect(steadyAdmissionRate(steady(0), BUCKET_SECONDS)).toBe(0);
  });

  it('says nothing from one burst alone (a room that just opened with every slot free)', () => {
    expect(steadyAdmissionRate([500, 0, 0, 0, 0, 0], BUCKET_SECONDS)).toBe(0);
    expect(
      estimatedWaitSeconds('WAITING', 10, steadyAdmissionRate([500, 0, 0, 0, 0, 0], 10)),
    ).toBeNull();
  });

  it('counts a burst of any size as no more than the fullest bucket before it (X: nothing at an even pace)', () => {
    // Steady pace plus noise, then one admission run of any size lands in any bucket.
    const counts = fc.array(fc.integer({ min: 5, max: 50 }), {
      minLength: RATE_BUCKETS,
      maxLength: RATE_BUCKETS,
    });
    fc.assert(
      fc.property(
        counts,
        fc.integer({ min: 0, max: 100_000 }),
        fc.integer({ min: 0, max: RATE_BUCKETS - 1 }),
        (before, burst, at) => {
          const after = before.map((count, i) => (i === at ? count + burst : count));
          const rateBefore = steadyAdmissionRate(before, BUCKET_SECONDS);
          const rateAfter = steadyAdmissionRate(after, BUCKET_SECONDS);
          // A burst of any size counts no more than the fullest bucket before it did.
          const fullest = Math.max(...before);
          const asFullest = before.map((count, i) => (i === at ? Math.max(count, fullest) : count));
          expect(rateAfter).toBeLessThanOrEqual(
            Math.max(rateBefore, steadyAdmissionRate(asFullest, BUCKET_SECONDS)) + 1e-9,
          );
          // So at an even pace (every bucket alike) it moves the rate by one bucket's worth at most.
          const even = steady(before[0]!);
          const evenAfter = even.map((count, i) => (i === at ? count + burst : count));
          expect(steadyAdmissionRate(evenAfter, BUCKET_SECONDS)).toBeCloseTo(
            steadyAdmissionRate(even, BUCKET_SECONDS),
            9,
          );
        },
      ),
      { numRuns: 2_000 },
    );
  });

  it('keeps the estimate of a steady line within 20% when a burst of 1,000 admissions lands (the plain window mean would cut it 40-fold)', () => {
    const pace = steady(4); // 0.4 per second
    const burst = [1_004, 4, 4, 4, 4, 4];
    const before = waitOf(300, pace);
    const after = waitOf(300, burst);
    expect(Math.abs(after - before) / before).toBeLessThanOrEqual(0.2);
    const plainMean = (counts: number[]) =>
      counts.reduce((sum, count) => sum + count, 0) / (counts.length * BUCKET_SECONDS);
    expect(300 / plainMean(burst)).toBeLessThan(before / 40);
  });

  it('converges to a new steady pace within 5% (Y) once it fills the window, and follows it halfway within two buckets', () => {
    // The pace goes from 1 to 3 per second; buckets are newest first.
    const window: number[] = steady(10);
    const rates: number[] = [];
    for (let bucket = 0; bucket < RATE_BUCKETS; bucket++) {
      window.unshift(30);
      window.pop();
      rates.push(steadyAdmissionRate(window, BUCKET_SECONDS));
    }
    expect(rates[0]).toBeCloseTo(1, 9); // one bucket of the new pace is treated as a burst
    expect(rates[1]).toBeGreaterThan(1.5);
    expect(Math.abs(rates.at(-1)! - 3) / 3).toBeLessThanOrEqual(0.05);
    for (let i = 1; i < rates.length; i++) expect(rates[i]).toBeGreaterThanOrEqual(rates[i - 1]!);
  });

  it('measures a room that began admitting lately over the buckets since, not the empty window before', () => {
    expect(steadyAdmissionRate([20, 20, 0, 0, 0, 0], BUCKET_SECONDS)).toBeCloseTo(2, 9);
    expect(steadyAdmissionRate([20, 20, 20, 0, 0, 0], BUCKET_SECONDS)).toBeCloseTo(2, 9);
    // A pause in between still counts: the pace since the first admission of the window.
    expect(steadyAdmissionRate([20, 0, 20, 0, 0, 0], BUCKET_SECONDS)).toBeCloseTo(40 / 30, 9);
  });

  it('is capped by the room’s admissionPerMinute', () => {
    expect(roomAdmissionRate(5, 120)).toBe(2);
    expect(roomAdmissionRate(1, 120)).toBe(1);
    expect(roomAdmissionRate(5, null)).toBe(5);
  });
});
