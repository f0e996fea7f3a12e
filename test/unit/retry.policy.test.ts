import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { afterFailure, type RetryPolicy } from '../../src/modules/events/retry.policy.js';

const HOUR = 3_600_000;
const policy: RetryPolicy = {
  maxAttempts: 0,
  baseDelayMs: 1_000,
  maxDelayMs: 300_000,
  horizonMs: 12 * HOUR,
};

/**
 * Proves the rule behind issue 12 item 7: a delivery that keeps failing is retried with capped,
 * jittered backoff until it has been failing for the horizon, however many attempts that takes,
 * and becomes a dead letter at its first failure after it; a permanent refusal or a configured
 * attempt limit still ends it earlier.
 */
describe('retry policy: what follows a failed delivery', () => {
  const failure = fc.record({
    attempts: fc.integer({ min: 1, max: 10_000 }),
    failingForMs: fc.integer({ min: 0, max: 48 * HOUR }),
    retryAfterMs: fc.integer({ min: 0, max: HOUR }),
  });
  const random = fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true });

  it('retries within the horizon, with capped backoff or the asked pause; dead after it', () => {
    fc.assert(
      fc.property(failure, random, (seen, r) => {
        const next = afterFailure({ ...seen, permanent: false }, policy, () => r);
        if (seen.failingForMs >= policy.horizonMs) {
          expect(next).toEqual({ dead: true });
          return;
        }
        expect(next.dead).toBe(false);
        if (next.dead) return;
        const step = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (seen.attempts - 1));
        expect(next.delayMs).toBeGreaterThanOrEqual(
          Math.max(Math.floor(step / 2), seen.retryAfterMs),
        );
        expect(next.delayMs).toBeLessThanOrEqual(Math.max(step, seen.retryAfterMs));
      }),
      { numRuns: 2_000 },
    );
  });

  it('dead-letters a permanent refusal at once, and at the attempt limit when one is set', () => {
    fc.assert(
      fc.property(failure, (seen) => {
        expect(afterFailure({ ...seen, permanent: true }, policy)).toEqual({ dead: true });
        const limited = { ...policy, maxAttempts: 8 };
        const next = afterFailure({ ...seen, failingForMs: 0, permanent: false }, limited);
        expect(next.dead).toBe(seen.attempts >= 8);
      }),
      { numRuns: 1_000 },
    );
  });

  it('keeps retrying through a 150 s outage that used to dead-letter every event', () => {
    // The outage of the issue, retried as often as the policy allows (the shortest jitter).
    let failingForMs = 0;
    for (let attempts = 1; failingForMs < 150_000; attempts++) {
      const next = afterFailure(
        { attempts, failingForMs, retryAfterMs: 0, permanent: false },
        policy,
        () => 0,
      );
      expect(next.dead).toBe(false);
      if (!next.dead) failingForMs += next.delayMs;
    }
  });
});
