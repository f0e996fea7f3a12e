import type { Idempotent } from '../../db/idempotency.js';
import { AppError } from '../../shared/errors.js';
import { outcomeOf, type SaleMetrics } from '../../shared/metrics.js';
import type { Outcome } from '../../shared/outcome.js';
import { tokenRefusalError, type QueueService } from '../queue/queue.service.js';
import type { TokenRecord } from '../queue/queue.store.js';
import type { AuditContext } from '../audit/audit.store.js';
import type { ClaimRefusal } from './reservations.rules.js';
import type {
  CancellationDto,
  CancelRefusal,
  Canceller,
  OrderDto,
  PaymentRefusal,
  ReservationDto,
  ReservationStore,
  ReservationSummary,
  ShowCancelBatch,
  ShowCancelJob,
} from './reservations.store.js';

/** The seed's payment of one held seat. */
export interface PaymentInput {
  reservationUuid: string;
  seatId: number;
}

/** Several held seats of one concert paid together (ticket limit above 1). */
export interface MultiPaymentInput {
  reservationUuid: string;
  seatIds: number[];
}

const claimMessages: Record<ClaimRefusal, (seatId: number) => string> = {
  HOLD_REQUIRED: (seatId) => `You hold no seat ${seatId}; hold it before paying.`,
  HOLD_EXPIRED: (seatId) => `Your hold on seat ${seatId} expired; nothing was charged.`,
  SEAT_ALREADY_RESERVED: (seatId) => `Seat ${seatId} is sold.`,
};

/** The field a seat refusal names: the seed's seatId, or which of a multi-seat payment's seatIds. */
const seatDetails = (ofSeveral: number | undefined) =>
  ofSeveral === undefined ? { field: 'seatId' } : { field: 'seatIds', seatId: ofSeveral };

/** The reply to a payment the database refused (nothing was written). */
function refusalError(refusal: PaymentRefusal, seatId: number): AppError {
  switch (refusal.reason) {
    case 'token':
      return tokenRefusalError(refusal.refusal);
    case 'seat-not-found':
      return new AppError(
        'SEAT_NOT_FOUND',
        `Seat ${refusal.seatId ?? seatId} does not exist.`,
        seatDetails(refusal.seatId),
      );
    case 'several-concerts':
      return new AppError(
        'INVALID_REQUEST',
        'seatIds must all be seats of one concert; nothing was charged.',
        { field: 'seatIds' },
      );
    case 'concert-ended':
      return new AppError('CONCERT_ENDED', 'The show has already started; nothing was charged.', {
        field: 'seatId',
      });
    case 'concert-cancelled':
      return new AppError('CONCERT_CANCELLED', 'The show was cancelled; nothing was charged.', {
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
      return new AppError(
        refusal.claim,
        claimMessages[refusal.claim](refusal.seatId ?? seatId),
        seatDetails(refusal.seatId),
      );
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

/** The reply to a cancellation the database refused (nothing was written). */
function cancelRefusalError(refusal: CancelRefusal, reservationId: number): AppError {
  switch (refusal.reason) {
    case 'not-found':
      return new AppError('RESERVATION_NOT_FOUND', `You have no reservation ${reservationId}.`, {
        field: 'reservationId',
      });
    case 'cutoff-passed':
      return new AppError(
        'REFUND_CUTOFF_PASSED',
        `Reservations for this concert could be cancelled until ${refusal.cutoff}; nothing was changed.`,
        { cutoff: refusal.cutoff },
      );
  }
}

export function createReservationService(deps: {
  store: ReservationStore;
  queue: Pick<QueueService, 'purchaseCompleted'>;
  /** Wakes the outbox relay after a commit that wrote an event. */
  eventsCommitted: () => void;
  /** Counts each payment by outcome (METRICS=on). */
  metrics?: Pick<SaleMetrics, 'paymentDecided' | 'cancelDecided'>;
  /** Wakes the show-cancel worker after a show was cancelled here. */
  showCancelRequested?: () => void;
}) {
  const { store, queue, eventsCommitted, metrics, showCancelRequested } = deps;

  async function decidePayment<T>(
    record: TokenRecord,
    seatId: number,
    paying: Promise<Outcome<Idempotent<T>, PaymentRefusal>>,
  ): Promise<Idempotent<T>> {
    const outcome = await paying;
    if (!outcome.ok) throw refusalError(outcome.refusal, seatId);
    const result = outcome.value;
    if (!result.replayed) {
      eventsCommitted();
      await queue.purchaseCompleted(record);
    }
    return result;
  }

  /** Counts a payment by its outcome. */
  async function counted<T>(paying: Promise<Idempotent<T>>): Promise<Idempotent<T>> {
    try {
      const result = await paying;
      metrics?.paymentDecided(result.replayed ? 'replayed' : 'ok');
      return result;
    } catch (error) {
      metrics?.paymentDecided(outcomeOf(error));
      throw error;
    }
  }

  /** A repeat answers the first cancellation again; only a new one wakes the relay. */
  async function cancelAs(
    reservationId: number,
    by: Canceller,
  ): Promise<Idempotent<CancellationDto>> {
    const outcome = await store.cancel(reservationId, by);
    if (!outcome.ok) {
      const error = cancelRefusalError(outcome.refusal, reservationId);
      metrics?.cancelDecided(by.kind, error.code);
      throw error;
    }
    metrics?.cancelDecided(by.kind, outcome.value.replayed ? 'replayed' : 'ok');
    if (!outcome.value.replayed) eventsCommitted();
    return outcome.value;
  }

  return {
    /** Pays for the held seat; a reservationUuid replay returns the original reservation. */
    pay(record: TokenRecord, input: PaymentInput): Promise<Idempotent<ReservationDto>> {
      return counted(
        decidePayment(record, input.seatId, store.pay({ userId: record.userId, ...input }, record)),
      );
    },

    /** Pays for several held seats of one concert together: all or nothing (0041). */
    payMany(record: TokenRecord, input: MultiPaymentInput): Promise<Idempotent<OrderDto>> {
      return counted(
        decidePayment(
          record,
          input.seatIds[0] ?? 0,
          store.payMany({ userId: record.userId, ...input }, record),
        ),
      );
    },

    mine(userId: number, limit: number): Promise<ReservationSummary[]> {
      return store.listByUser(userId, limit);
    },

    /** The buyer cancels their own reservation (refund minus the concert's fee, until its cut-off). */
    cancel(userId: number, reservationId: number): Promise<Idempotent<CancellationDto>> {
      return cancelAs(reservationId, { kind: 'buyer', userId });
    },

    /** An operator cancels any reservation: a full refund, whenever; audited. */
    cancelAsOperator(
      reservationId: number,
      audit: AuditContext,
    ): Promise<Idempotent<CancellationDto>> {
      return cancelAs(reservationId, { kind: 'operator', audit });
    },

    /**
     * An operator cancels a whole show: closed to sale and its holds released at the commit; the
     * show-cancel job refunds every reservation in full afterwards. A repeat answers the same job.
     */
    async cancelShow(
      concertId: number,
      reason: string | null,
      audit: AuditContext,
    ): Promise<Idempotent<ShowCancelJob>> {
      const outcome = await store.cancelShow(concertId, reason, audit);
      if (!outcome.ok)
        throw new AppError('CONCERT_NOT_FOUND', `Concert ${concertId} does not exist.`, {
          field: 'concertId',
        });
      if (!outcome.value.replayed) showCancelRequested?.();
      return outcome.value;
    },

    /** The show's cancellation job and its progress. */
    async showCancelJob(concertId: number): Promise<ShowCancelJob> {
      const job = await store.showCancelJob(concertId);
      if (!job)
        throw new AppError(
          'SHOW_CANCEL_NOT_FOUND',
          `Concert ${concertId} was not cancelled (or does not exist).`,
          { field: 'concertId' },
        );
      return job;
    },

    /** One batch of a running show-cancel job (the worker's step); wakes the relay for its events. */
    async cancelShowBatch(limit: number): Promise<ShowCancelBatch | null> {
      const batch = await store.cancelShowBatch(limit);
      if (batch && batch.refunded > 0) eventsCommitted();
      return batch;
    },
  };
}

export type ReservationService = ReturnType<typeof createReservationService>;
