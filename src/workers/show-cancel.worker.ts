import type { Logger } from 'pino';
import type { ReservationService } from '../modules/reservations/reservations.service.js';
import { createLoop, type Loop } from '../shared/loop.js';

export interface ShowCancelWorkerOptions {
  intervalMs: number;
  /** Reservations cancelled per transaction. */
  batchSize: number;
  logger: Logger;
}

/**
 * Works the show-cancel jobs (docs/decisions/0039): batch after batch, each one transaction that
 * leases its job row (FOR UPDATE SKIP LOCKED), cancels up to `batchSize` live reservations with
 * the operator's full-refund statement and counts them. Safe on every instance: a job row is one
 * batch's at a time, a cancelled reservation is no longer live and a second REFUND of it breaks a
 * unique index, and a batch cut off by a crash rolls back whole, so any instance carries on.
 * One batch per run, the next run at once while any job has work; a stop returns after the batch
 * in flight.
 */
/** Read afresh after each await (a plain `signal.aborted` would stay narrowed to false). */
const stopped = (signal: AbortSignal): boolean => signal.aborted;

export function createShowCancelWorker(
  reservations: Pick<ReservationService, 'cancelShowBatch'>,
  options: ShowCancelWorkerOptions,
): Loop {
  const loop: Loop = createLoop(
    'show-cancel',
    options.intervalMs,
    async (stopping) => {
      if (stopped(stopping)) return;
      const batch = await reservations.cancelShowBatch(options.batchSize);
      if (!batch) return;
      if (batch.done) options.logger.info({ concertId: batch.concertId }, 'show cancellation done');
      // One batch per run, so every run completes within a batch's time (the readiness probe
      // counts completed runs); the next one follows at once while a job has work left.
      if (!stopped(stopping)) loop.wake();
    },
    options.logger,
  );
  return loop;
}
