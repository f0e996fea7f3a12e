import { AppError } from '../../shared/errors.js';
import type { QueueService } from '../queue/queue.service.js';
import type { TokenRecord } from '../queue/queue.store.js';
import type { HoldDto, HoldStore } from './holds.store.js';
import type { Idempotent } from '../../db/idempotency.js';

export interface HoldInput {
  seatHoldUuid: string;
  concertId: number;
  seatId: number;
}

export function createHoldService(deps: {
  store: HoldStore;
  queue: Pick<QueueService, 'link' | 'assertAccess' | 'holdTaken' | 'holdReleased'>;
}) {
  const { store, queue } = deps;
  return {
    /** Holds a seat for the token's user; a seatHoldUuid replay returns the first result. */
    async hold(record: TokenRecord, input: HoldInput): Promise<Idempotent<HoldDto>> {
      const result = await store.hold(
        {
          userId: record.userId,
          concertId: input.concertId,
          seatId: input.seatId,
          holdUuid: input.seatHoldUuid,
        },
        queue.link(record, 'hold'),
      );
      if (!result.replayed) {
        await queue.holdTaken(record, new Date(result.value.expiresAt), result.value.concertId);
      }
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
