import { describe, expect, it, vi } from 'vitest';
import type { Idempotent } from '../../src/db/idempotency.js';
import { createReservationService } from '../../src/modules/reservations/reservations.service.js';
import { refundAmount } from '../../src/modules/reservations/reservations.rules.js';
import type {
  CancellationDto,
  CancelRefusal,
  PaymentRefusal,
  ReservationDto,
  ReservationStore,
} from '../../src/modules/reservations/reservations.store.js';
import type { Outcome } from '../../src/shared/outcome.js';
import {
  expectAppError,
  tokenRecord,
  tokenRefusalCases,
  type RefusalCase,
} from '../support/fakes.js';

const reservation: ReservationDto = {
  reservationId: 1,
  concertId: 3,
  seatId: 11,
  seatNumber: 11,
  price: 5_000,
  balance: 0,
  reservedAt: '2026-12-08T10:00:00.000Z',
};

/** A reservation service over scripted fakes; `answer` is what the payment transaction returns. */
function setUp(
  answer: Outcome<Idempotent<ReservationDto>, PaymentRefusal>,
  cancelled: Outcome<Idempotent<CancellationDto>, CancelRefusal> = {
    ok: false,
    refusal: { reason: 'not-found' },
  },
) {
  const store = {
    pay: vi.fn<ReservationStore['pay']>(() => Promise.resolve(answer)),
    payMany: vi.fn<ReservationStore['payMany']>(),
    listByUser: vi.fn<ReservationStore['listByUser']>(() => Promise.resolve([])),
    cancel: vi.fn<ReservationStore['cancel']>(() => Promise.resolve(cancelled)),
    cancelShow: vi.fn<ReservationStore['cancelShow']>(),
    showCancelJob: vi.fn<ReservationStore['showCancelJob']>(),
    cancelShowBatch: vi.fn<ReservationStore['cancelShowBatch']>(),
  };
  const queue = { purchaseCompleted: vi.fn(() => Promise.resolve()) };
  const eventsCommitted = vi.fn();
  const service = createReservationService({ store, queue, eventsCommitted });
  return { service, store, queue, eventsCommitted };
}

const input = { reservationUuid: 'c3d4', seatId: 11 };

describe('reservation service', () => {
  it("pays for the token's user, then wakes the relay and frees the slot", async () => {
    const { service, store, queue, eventsCommitted } = setUp({
      ok: true,
      value: { value: reservation, replayed: false },
    });
    const record = tokenRecord();
    expect(await service.pay(record, input)).toEqual({ value: reservation, replayed: false });
    expect(store.pay).toHaveBeenCalledWith(
      { userId: 7, seatId: 11, reservationUuid: 'c3d4' },
      record,
    );
    expect(eventsCommitted).toHaveBeenCalledOnce();
    expect(queue.purchaseCompleted).toHaveBeenCalledWith(record);
  });

  it('does nothing after a replay: the first payment did it', async () => {
    const { service, queue, eventsCommitted } = setUp({
      ok: true,
      value: { value: reservation, replayed: true },
    });
    expect((await service.pay(tokenRecord(), input)).replayed).toBe(true);
    expect(eventsCommitted).not.toHaveBeenCalled();
    expect(queue.purchaseCompleted).not.toHaveBeenCalled();
  });

  it('words each refusal of the database with its code, message and details', async () => {
    const cases: RefusalCase<PaymentRefusal>[] = [
      [
        { reason: 'seat-not-found' },
        'SEAT_NOT_FOUND',
        'Seat 11 does not exist.',
        { field: 'seatId' },
      ],
      [
        { reason: 'concert-ended' },
        'CONCERT_ENDED',
        'The show has already started; nothing was charged.',
        { field: 'seatId' },
      ],
      [
        { reason: 'claim', claim: 'HOLD_REQUIRED' },
        'HOLD_REQUIRED',
        'You hold no seat 11; hold it before paying.',
        { field: 'seatId' },
      ],
      [
        { reason: 'claim', claim: 'HOLD_EXPIRED' },
        'HOLD_EXPIRED',
        'Your hold on seat 11 expired; nothing was charged.',
        { field: 'seatId' },
      ],
      [
        { reason: 'claim', claim: 'SEAT_ALREADY_RESERVED' },
        'SEAT_ALREADY_RESERVED',
        'Seat 11 is sold.',
        { field: 'seatId' },
      ],
      [
        { reason: 'insufficient-balance', price: 5_000 },
        'INSUFFICIENT_BALANCE',
        'The seat costs 5000; charge your balance first. Nothing was charged.',
        { price: 5_000 },
      ],
      [
        { reason: 'token-spent' },
        'QUEUE_TOKEN_EXPIRED',
        'This queue token has already paid.',
        { field: 'Queue-Token' },
      ],
      ...tokenRefusalCases,
    ];
    for (const [refusal, code, message, details] of cases) {
      const { service, queue, eventsCommitted } = setUp({ ok: false, refusal });
      await expectAppError(service.pay(tokenRecord(), input), code, message, details);
      expect(eventsCommitted).not.toHaveBeenCalled();
      expect(queue.purchaseCompleted).not.toHaveBeenCalled();
    }
  });

  it("lists the user's reservations through the store", async () => {
    const { service, store } = setUp({ ok: true, value: { value: reservation, replayed: false } });
    expect(await service.mine(7, 20)).toEqual([]);
    expect(store.listByUser).toHaveBeenCalledWith(7, 20);
  });

  const cancellation: CancellationDto = {
    reservationId: 1,
    concertId: 3,
    seatId: 11,
    seatNumber: 11,
    price: 5_000,
    refundAmount: 4_500,
    cancelledBy: 'buyer',
    cancelledAt: '2026-12-08T11:00:00.000Z',
  };
  const paid = { ok: true as const, value: { value: reservation, replayed: false } };

  it('cancels as the buyer, waking the relay only for a new cancellation', async () => {
    const fresh = setUp(paid, { ok: true, value: { value: cancellation, replayed: false } });
    expect(await fresh.service.cancel(7, 1)).toEqual({ value: cancellation, replayed: false });
    expect(fresh.store.cancel).toHaveBeenCalledWith(1, { kind: 'buyer', userId: 7 });
    expect(fresh.eventsCommitted).toHaveBeenCalledOnce();

    const again = setUp(paid, { ok: true, value: { value: cancellation, replayed: true } });
    expect((await again.service.cancel(7, 1)).replayed).toBe(true);
    expect(again.eventsCommitted).not.toHaveBeenCalled();
  });

  it('cancels as an operator with the audit context', async () => {
    const { service, store } = setUp(paid, {
      ok: true,
      value: { value: { ...cancellation, cancelledBy: 'operator' }, replayed: false },
    });
    const audit = { actor: 'operator-key:ab', requestId: 'req-1' };
    await service.cancelAsOperator(1, audit);
    expect(store.cancel).toHaveBeenCalledWith(1, { kind: 'operator', audit });
  });

  it('words the refusals of a cancellation', async () => {
    const missing = setUp(paid, { ok: false, refusal: { reason: 'not-found' } });
    await expectAppError(
      missing.service.cancel(7, 9),
      'RESERVATION_NOT_FOUND',
      'You have no reservation 9.',
      {
        field: 'reservationId',
      },
    );
    const late = setUp(paid, {
      ok: false,
      refusal: { reason: 'cutoff-passed', cutoff: '2026-12-07T10:00:00.000Z' },
    });
    await expectAppError(
      late.service.cancel(7, 1),
      'REFUND_CUTOFF_PASSED',
      'Reservations for this concert could be cancelled until 2026-12-07T10:00:00.000Z; nothing was changed.',
      { cutoff: '2026-12-07T10:00:00.000Z' },
    );
    expect(late.eventsCommitted).not.toHaveBeenCalled();
  });

  it('refunds the price minus the fee, rounded in the buyer’s favour', () => {
    expect(refundAmount(10_000, 0)).toBe(10_000);
    expect(refundAmount(10_000, 10)).toBe(9_000);
    expect(refundAmount(999, 10)).toBe(900);
    expect(refundAmount(10_000, 100)).toBe(0);
  });
});
