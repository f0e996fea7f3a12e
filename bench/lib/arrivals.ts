import type { Stage } from './options.js';

/**
 * Send times (ms from the start) of an open-loop arrival-rate ramp, like k6's
 * ramping-arrival-rate executor: the rate moves linearly from the previous stage's target (0 at
 * first) to this stage's target, and request k is due when the integral of the rate reaches k.
 */
export function arrivalOffsets(stages: readonly Stage[]): Float64Array {
  const times: number[] = [];
  let startRate = 0;
  let stageStart = 0;
  let issued = 0;
  let cumulative = 0;
  for (const stage of stages) {
    const duration = stage.durationSeconds;
    const slope = (stage.target - startRate) / duration; // rate change per second
    const total = ((startRate + stage.target) / 2) * duration;
    cumulative += total;
    // Arrival number k (1-based, cumulative) falls in this stage when k <= cumulative.
    while (issued + 1 <= cumulative + 1e-9) {
      const within = issued + 1 - (cumulative - total); // requests into this stage
      // Solve startRate·t + slope·t²/2 = within for t in [0, duration].
      const t =
        Math.abs(slope) < 1e-12
          ? within / startRate
          : (-startRate + Math.sqrt(Math.max(0, startRate * startRate + 2 * slope * within))) /
            slope;
      times.push((stageStart + Math.min(duration, Math.max(0, t))) * 1000);
      issued++;
    }
    startRate = stage.target;
    stageStart += duration;
  }
  return Float64Array.from(times);
}

export const stagesSeconds = (stages: readonly Stage[]): number =>
  stages.reduce((sum, stage) => sum + stage.durationSeconds, 0);
