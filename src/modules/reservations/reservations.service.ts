import type { Idempotent } from '../../db/idempotency.js';
import { AppError } from '../../shared/errors.js';
import { tokenRefusalError, type QueueService } from '../queue/queue.service.js';
import type { TokenRecord } from '../queue/queue.store.js';
import type { ClaimRefusal } from './reservations.rules.js';
import type {
  PaymentRefusal,
  ReservationDto,
  ReservationStore,
  ReservationSummary,
} from './reservations.store.js';

export interface PaymentInput {
  reservationUuid: string;
  seatId: number;
}

const claimMessages: Record<ClaimRefusal, (seatId: number) => string> = {
  HOLD_REQUIRED: (seatId) => `You hold no seat ${seatId}; hold it before paying.`,
  HOLD_EXPIRED: (seatId) => `Your hold on seat ${seatId} expired; nothing was charged.`,
  SEAT_ALREADY_RESERVED: (seatId) => `Seat ${seatId} is sold.`,
};

/** The reply to a payment the database refused (nothing was written). */
function refusalError(refusal: PaymentRefusal, seatId: number): AppError {
  switch (refusal.reason) {
    case 'token':
      return tokenRefusalError(refusal.refusal);
    case 'seat-not-found':
      return new AppError('SEAT_NOT_FOUND', `Seat ${seatId} does not exist.`, { field: 'seatId' });
    case 'concert-ended':
      return new AppError('CONCERT_ENDED', 'The show has already started; nothing was charged.', {
        field: 'seatId',
      });
    case 'sale-not-open':
      return new AppError(
        'SALE_NOT_OPEN',
        'The sale of this concert has not opened yet; nothing was charged.',
        { field: 'seatId' },
      );
    case 'sale-closed':
      return new AppError(
        'SALE_CLOSED',
        'The sale of this concert has closed; nothing was charged.',
        {
          field: 'seatId',
        },
      );
    case 'claim':
      return new AppError(refusal.claim, claimMessages[refusal.claim](seatId), {
        field: 'seatId',
      });
    case 'insufficient-balance':
      return new AppError(
        'INSUFFICIENT_BALANCE',
        `The seat costs ${refusal.price}; charge your balance first. Nothing was charged.`,
        { price: refusal.price },
      );
    case 'token-spent':
      return new AppError('QUEUE_TOKEN_EXPIRED', 'This queue token has already paid.', {
        field: 'Queue-Token',
      });
  }
}

export function createReservationService(deps: {
  store: ReservationStore;
  queue: Pick<QueueService, 'purchaseCompleted'>;
  /** Wakes the outbox relay after a commit that wrote an event. */
  eventsCommitted: () => void;
}) {
  const { store, queue, eventsCommitted } = deps;
  return {
    /** Pays for the held seat; a reservationUuid replay returns the original reservation. */
    async pay(record: TokenRecord, input: PaymentInput): Promise<Idempotent<ReservationDto>> {
      const outcome = await store.pay(
        { userId: record.userId, seatId: input.seatId, reservationUuid: input.reservationUuid },
        record,
      );
      if (!outcome.ok) throw refusalError(outcome.refusal, input.seatId);
      const result = outcome.value;
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
