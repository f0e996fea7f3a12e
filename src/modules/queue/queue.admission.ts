import type { Logger } from 'pino';
import type { AdmissionResult, QueueStore, TokenView } from './queue.store.js';
import { createLoop, type Worker } from '../../shared/loop.js';

export interface Admission extends Worker {
  /** Expire and admit now; resolves once a run that started after the call is done. */
  admitNow: () => Promise<void>;
  /** A slot was freed here (payment, leave): refill it without waiting for the next tick. */
  slotFreed: () => void;
  /**
   * Called before a join reads its place; tells whether the token it got might be admitted at
   * once (so the join waits for a run). It judges by the last run that finished before the read:
   * that run's active count is at most the one the read saw, so a token with room is never left
   * for the next tick (a run finishing between the read and the check would count the tokens
   * ahead twice, as active and as ahead in line).
   */
  beforeJoin: () => (view: TokenView) => boolean;
  last: () => AdmissionResult | undefined;
}

/**
 * The admission worker: every `intervalMs` (and at once when a slot frees on this instance) it
 * expires due tokens and fills free slots from the head of the line. The store makes each run
 * safe against runs on other instances; this loop only keeps one run at a time per process.
 */
export function createAdmission(
  store: Pick<QueueStore, 'admit'>,
  options: {
    maxActive: number;
    intervalMs: number;
    logger: Logger;
    /** Called after each run that admitted or expired tokens (live positions push at once). */
    onChange?: (result: AdmissionResult) => void;
  },
): Admission {
  let last: AdmissionResult | undefined;
  const loop = createLoop(
    'admission',
    options.intervalMs,
    async () => {
      last = await store.admit();
      if (last.admitted > 0 || last.expired > 0) {
        options.logger.debug({ ...last }, 'admission run');
        options.onChange?.(last);
      }
    },
    options.logger,
  );
  return {
    start: loop.start,
    stop: loop.stop,
    progress: loop.progress,
    admitNow: loop.runNow,
    slotFreed: loop.wake,
    beforeJoin() {
      const before = last;
      return (view) => {
        if (view.status !== 'WAITING') return false;
        // Head of the line, or no run yet: only admission can tell whether there is room.
        if (view.position === 1 || before === undefined) return true;
        return before.active + view.position <= options.maxActive;
      };
    },
    last: () => last,
  };
}
