/**
 * The admission rate a waiting buyer's estimated wait is computed from (docs/decisions/0058).
 *
 * Every store reads, per room, its admissions over the rate window (ADMISSION_RATE_WINDOW_SECONDS)
 * cut into RATE_BUCKETS equal buckets, newest first, at one instant of its clock. The rate is the
 * mean of the buckets (from the oldest with an admission) after the fullest one is lowered to the
 * second fullest (winsorized): one
 * admission run happens at one instant, so a burst — a room opening with every slot free, a wave
 * of expiries refilled at once — lands in one bucket and moves the rate by at most what a normal
 * bucket adds, both when it enters the window and when it leaves it. A real change of pace shows
 * once two buckets have it. A room's admissionPerMinute caps the rate: nobody is admitted faster.
 */

/** Buckets the rate window is cut into (10 s each with the default one-minute window). */
export const RATE_BUCKETS = 6;

/**
 * Admissions per second from per-bucket counts (each `bucketSeconds` long, newest first), robust
 * to one burst; 0 when fewer than two buckets saw an admission (one burst alone says nothing of
 * the pace). The span is from the oldest bucket with an admission to now: a room that began
 * admitting a few buckets ago is measured over those, not diluted by the empty window before.
 */
export function steadyAdmissionRate(counts: readonly number[], bucketSeconds: number): number {
  if (!(bucketSeconds > 0)) return 0;
  let first = 0;
  let second = 0;
  let sum = 0;
  let span = 0;
  counts.forEach((count, i) => {
    sum += count;
    if (count > 0) span = i + 1;
    if (count > first) [first, second] = [count, first];
    else if (count > second) second = count;
  });
  return span === 0 ? 0 : (sum - first + second) / (span * bucketSeconds);
}

/** The rate a room's estimates use: the measured steady rate, never above its rate limit. */
export function roomAdmissionRate(measured: number, admissionPerMinute: number | null): number {
  return admissionPerMinute === null ? measured : Math.min(measured, admissionPerMinute / 60);
}

/** Per-room bucket counts → per-room steady rates (admissions per second). */
export function steadyRates(
  buckets: ReadonlyMap<number, readonly number[]>,
  windowSeconds: number,
): Map<number, number> {
  const rates = new Map<number, number>();
  for (const [roomId, counts] of buckets)
    rates.set(roomId, steadyAdmissionRate(counts, windowSeconds / RATE_BUCKETS));
  return rates;
}
