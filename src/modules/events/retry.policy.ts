export interface RetryPolicy {
  /** Attempts in all (the first delivery included) before an event is dead-lettered; 0: no limit. */
  maxAttempts: number;
  baseDelayMs: number;
  maxDelayMs: number;
  /**
   * How long a failing event is retried, from its first failure (or its replay): its next
   * failure after that makes it a dead letter.
   */
  horizonMs: number;
}

/**
 * Delay before attempt n+1 after n failed attempts: exponential (base·2^(n-1), capped) with
 * "equal jitter" — half fixed, half random — so retries of many events spread out instead of
 * hitting a recovering receiver together, yet never come back sooner than half the step.
 */
export function retryDelayMs(
  failedAttempts: number,
  policy: Pick<RetryPolicy, 'baseDelayMs' | 'maxDelayMs'>,
  random: () => number = Math.random,
): number {
  const step = Math.min(
    policy.maxDelayMs,
    policy.baseDelayMs * 2 ** Math.max(failedAttempts - 1, 0),
  );
  return Math.round(step / 2 + random() * (step / 2));
}

export interface DeliveryFailure {
  /** Failed attempts so far, this one included. */
  attempts: number;
  /** How long the delivery has been failing, by the database's clock (0 at its first failure). */
  failingForMs: number;
  /** The pause the receiver asked for (429 Retry-After), 0 when none. */
  retryAfterMs: number;
  /** Retrying cannot help: the receiver refused the event itself. */
  permanent: boolean;
}

export type NextStep = { dead: true } | { dead: false; delayMs: number };

/**
 * What follows a failed attempt: another one after the backoff delay (or the receiver's
 * Retry-After when longer), or the dead letters — at once for a permanent refusal, after
 * `maxAttempts` when set, and otherwise once the delivery has been failing for the horizon. An
 * outage shorter than the horizon therefore heals by itself: the retries, at most `maxDelayMs`
 * apart, go on until the receiver answers again.
 */
export function afterFailure(
  failure: DeliveryFailure,
  policy: RetryPolicy,
  random: () => number = Math.random,
): NextStep {
  if (failure.permanent) return { dead: true };
  if (policy.maxAttempts > 0 && failure.attempts >= policy.maxAttempts) return { dead: true };
  if (failure.failingForMs >= policy.horizonMs) return { dead: true };
  return {
    dead: false,
    delayMs: Math.max(retryDelayMs(failure.attempts, policy, random), failure.retryAfterMs),
  };
}
