import type { Idempotent } from '../../db/idempotency.js';
import type { QueueService } from '../queue/queue.service.js';
import type { TokenRecord } from '../queue/queue.store.js';
import type { ReservationDto, ReservationStore, ReservationSummary } from './reservations.store.js';

export interface PaymentInput {
  reservationUuid: string;
  seatId: number;
}

export function createReservationService(deps: {
  store: ReservationStore;
  queue: Pick<QueueService, 'link' | 'purchaseCompleted'>;
  /** Wakes the outbox relay after a commit that wrote an event. */
  eventsCommitted: () => void;
}) {
  const { store, queue, eventsCommitted } = deps;
  return {
    /** Pays for the held seat; a reservationUuid replay returns the original reservation. */
    async pay(record: TokenRecord, input: PaymentInput): Promise<Idempotent<ReservationDto>> {
      const result = await store.pay(
        { userId: record.userId, seatId: input.seatId, reservationUuid: input.reservationUuid },
        queue.link(record, 'pay'),
      );
      if (!result.replayed) {
        eventsCommitted();
        await queue.purchaseCompleted(record);
      }
      return result;
    },

    mine(userId: number, limit: number): Promise<ReservationSummary[]> {
      return store.listByUser(userId, limit);
    },
  };
}

export type ReservationService = ReturnType<typeof createReservationService>;
