/**
 * The admission rate a waiting buyer's estimated wait is computed from (docs/decisions/0058).
 *
 * Every store reads, per room, at one instant of its clock: its admissions over the rate window
 * (ADMISSION_RATE_WINDOW_SECONDS) cut into RATE_BUCKETS equal buckets, newest first, and the
 * oldest admission run of the window (its age and how many it admitted). The rate is the
 * admissions after that oldest run, over the time since it — the run only marks where the
 * measured span starts (a room that began admitting 12 s ago is measured over those 12 s, and its
 * opening burst is not counted) — with the fullest bucket lowered to the second fullest's pace
 * (winsorized): one admission run happens at one instant, so a burst — a room opening with every
 * slot free, a wave of expiries refilled at once — lands in one bucket and moves the rate by at
 * most what a normal bucket adds, both when it enters the window and when it leaves it. A real
 * change of pace shows once two buckets have it. A room's admissionPerMinute caps the rate.
 */

/** Buckets the rate window is cut into (10 s each with the default one-minute window). */
export const RATE_BUCKETS = 6;

/** One room's admissions in the rate window, as a store reads them at one instant. */
export interface AdmissionWindow {
  /** Admissions per bucket, newest first (RATE_BUCKETS of them). */
  counts: readonly number[];
  /** Age of the oldest admission run in the window, seconds (0 when there is none). */
  oldestAgeSeconds: number;
  /** Tokens that oldest run admitted (it shares one instant of the store's clock). */
  oldestCount: number;
}

/**
 * Admissions per second after the window's oldest admission run, over the time since it, robust
 * to one burst; 0 when the admissions after that run fill fewer than two buckets (one burst alone
 * says nothing of the pace). Buckets are compared by their pace (count ÷ the seconds of the span
 * they cover: the oldest run's bucket covers only the part since that run).
 */
export function steadyAdmissionRate(window: AdmissionWindow, bucketSeconds: number): number {
  const { counts, oldestAgeSeconds: span, oldestCount } = window;
  if (!(bucketSeconds > 0) || !(span > 0)) return 0;
  // The oldest run starts the span: its admissions leave their bucket, which covers the rest.
  const oldestBucket = Math.min(counts.length - 1, Math.floor(span / bucketSeconds));
  let sum = 0;
  let fullest = { pace: 0, covers: 0, count: 0 };
  let second = 0;
  counts.forEach((total, i) => {
    if (i > oldestBucket) return;
    const count = i === oldestBucket ? Math.max(0, total - oldestCount) : total;
    const covers = i === oldestBucket ? span - i * bucketSeconds : bucketSeconds;
    const pace = covers > 0 ? count / covers : 0;
    sum += count;
    if (pace > fullest.pace) [fullest, second] = [{ pace, covers, count }, fullest.pace];
    else if (pace > second) second = pace;
  });
  // The fullest bucket counts at the second fullest's pace (winsorized).
  return (sum - fullest.count + second * fullest.covers) / span;
}

/** The rate a room's estimates use: the measured steady rate, never above its rate limit. */
export function roomAdmissionRate(measured: number, admissionPerMinute: number | null): number {
  return admissionPerMinute === null ? measured : Math.min(measured, admissionPerMinute / 60);
}

/** Per-room admission windows → per-room steady rates (admissions per second). */
export function steadyRates(
  windows: ReadonlyMap<number, AdmissionWindow>,
  windowSeconds: number,
): Map<number, number> {
  const rates = new Map<number, number>();
  for (const [roomId, window] of windows)
    rates.set(roomId, steadyAdmissionRate(window, windowSeconds / RATE_BUCKETS));
  return rates;
}
