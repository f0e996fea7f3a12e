import { AppError } from '../../shared/errors.js';
import type { QueueService } from '../queue/queue.service.js';
import type { TokenRecord } from '../queue/queue.store.js';
import { SeatTakenError, type HoldDto, type HoldStore } from './holds.store.js';
import type { SeatGate } from './seat-gate.js';
import type { Idempotent } from '../../db/idempotency.js';

export interface HoldInput {
  seatHoldUuid: string;
  concertId: number;
  seatId: number;
}

export function createHoldService(deps: {
  store: HoldStore;
  queue: Pick<QueueService, 'link' | 'assertAccess' | 'allows' | 'holdTaken' | 'holdReleased'>;
  /** Optional filter in front of the database hold (Redis); the database decides either way. */
  gate?: SeatGate;
}) {
  const { store, queue, gate } = deps;

  const holdInDatabase = (record: TokenRecord, input: HoldInput) =>
    store.hold(
      {
        userId: record.userId,
        concertId: input.concertId,
        seatId: input.seatId,
        holdUuid: input.seatHoldUuid,
      },
      queue.link(record, 'hold'),
    );

  /** After the commit: a token stored outside the booking database is extended to the hold. */
  const extendToken = async (record: TokenRecord, result: Idempotent<HoldDto>) => {
    if (!result.replayed)
      await queue.holdTaken(record, new Date(result.value.expiresAt), result.value.concertId);
  };

  return {
    /** Holds a seat for the token's user; a seatHoldUuid replay returns the first result. */
    async hold(record: TokenRecord, input: HoldInput): Promise<Idempotent<HoldDto>> {
      // Only tokens that may hold take part in the gate: any other goes to the database, which
      // answers it after a replay has had its chance, exactly as without a gate.
      const entry =
        gate && queue.allows(record, 'hold', input.concertId)
          ? await gate.enter(input, record.userId)
          : undefined;
      if (entry?.kind === 'refuse')
        throw new SeatTakenError(input.seatId, entry.holderId, entry.sold);
      const deciding = entry?.kind === 'decide' ? entry : undefined;
      let result: Idempotent<HoldDto>;
      try {
        result = await holdInDatabase(record, input);
      } catch (error) {
        await deciding?.settle(
          error instanceof SeatTakenError && error.holderId !== null
            ? error.sold
              ? { sold: error.holderId }
              : { held: error.holderId }
            : 'undecided',
        );
        throw error;
      }
      // Sent together, one Redis round trip with auto-pipelining. A replay answers with the past:
      // it says nothing about who holds the seat now.
      await Promise.all([
        extendToken(record, result),
        deciding?.settle(result.replayed ? 'undecided' : { held: record.userId }),
      ]);
      return result;
    },

    async release(record: TokenRecord, concertId: number): Promise<HoldDto> {
      queue.assertAccess(record, 'release', concertId);
      const released = await store.release(record.userId, concertId, queue.link(record, 'release'));
      if (!released)
        throw new AppError('HOLD_NOT_FOUND', `You hold no seat in concert ${concertId}.`, {
          field: 'concertId',
        });
      await queue.holdReleased(record);
      return released;
    },
  };
}

export type HoldService = ReturnType<typeof createHoldService>;
