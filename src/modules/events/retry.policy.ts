export interface RetryPolicy {
  /** Attempts in all (the first delivery included) before an event is dead-lettered. */
  maxAttempts: number;
  baseDelayMs: number;
  maxDelayMs: number;
}

/**
 * Delay before attempt n+1 after n failed attempts: exponential (base·2^(n-1), capped) with
 * "equal jitter" — half fixed, half random — so retries of many events spread out instead of
 * hitting a recovering receiver together, yet never come back sooner than half the step.
 */
export function retryDelayMs(
  failedAttempts: number,
  policy: RetryPolicy,
  random: () => number = Math.random,
): number {
  const step = Math.min(
    policy.maxDelayMs,
    policy.baseDelayMs * 2 ** Math.max(failedAttempts - 1, 0),
  );
  return Math.round(step / 2 + random() * (step / 2));
}
