import { Type } from 'typebox';
import type { App } from '../../shared/app-types.js';
import { AppError } from '../../shared/errors.js';
import {
  bodyErrors,
  id,
  idempotencyKey,
  isoTime,
  ok,
  responses,
  successEnvelope,
} from '../../shared/http.js';
import type { Guards } from '../auth/guards.js';
import type { ReservationService } from './reservations.service.js';

const tags = ['reservations'];

const reservationSchema = Type.Object({
  reservationId: id('Reservation id.'),
  concertId: id('Concert id.'),
  seatId: id('Seat id.'),
  seatNumber: Type.Integer({ minimum: 1 }),
  price: Type.Integer({ minimum: 1, description: 'Amount paid, in won.' }),
  balance: Type.Integer({ minimum: 0, description: 'Your balance right after this payment.' }),
  reservedAt: isoTime('When the payment committed.'),
});

const orderExample = {
  concertId: 1,
  total: 300_000,
  balance: 20_000,
  reservedAt: '2026-12-01T09:00:00.000Z',
  reservations: [
    { reservationId: 2, seatId: 8, seatNumber: 8, price: 150_000 },
    { reservationId: 3, seatId: 9, seatNumber: 9, price: 150_000 },
  ],
};

/** A multi-seat payment's reply: one reservation per seat, refunded one by one. */
const orderSchema = Type.Object(
  {
    concertId: id('Concert id.'),
    total: Type.Integer({ minimum: 1, description: 'The sum of the seats’ prices, in won.' }),
    balance: Type.Integer({ minimum: 0, description: 'Your balance right after this payment.' }),
    reservedAt: isoTime('When the payment committed.'),
    reservations: Type.Array(
      Type.Object({
        reservationId: id('Reservation id (cancel it on its own).'),
        seatId: id('Seat id.'),
        seatNumber: Type.Integer({ minimum: 1 }),
        price: Type.Integer({ minimum: 1, description: 'Amount paid for this seat, in won.' }),
      }),
      { description: 'One per seat, in the order of seatIds.' },
    ),
  },
  { description: 'The answer to a payment with seatIds.', examples: [orderExample] },
);

const summarySchema = Type.Object({
  reservationId: id('Reservation id.'),
  concertId: id('Concert id.'),
  concertTitle: Type.String(),
  concertDateTime: isoTime('When the show starts.'),
  seatId: id('Seat id.'),
  seatNumber: Type.Integer({ minimum: 1 }),
  price: Type.Integer({ minimum: 1 }),
  reservedAt: isoTime('When the payment committed.'),
  status: Type.Union([Type.Literal('CONFIRMED'), Type.Literal('CANCELLED')], {
    description: 'CANCELLED once you or an operator cancelled it (its seat is on sale again).',
  }),
  refundAmount: Type.Union([Type.Integer({ minimum: 0 }), Type.Null()], {
    description: 'What the cancellation refunded to your balance; null while confirmed.',
  }),
  cancelledAt: Type.Union([isoTime('When it was cancelled.'), Type.Null()]),
  refundQuote: Type.Union([Type.Integer({ minimum: 0 }), Type.Null()], {
    description:
      'What cancelling now would refund: the price minus the concert’s refund fee; null once cancelled or past the refund cut-off.',
  }),
});

/** A cancellation, as the first request answered it and every repeat answers it again. */
export const cancellationSchema = Type.Object({
  reservationId: id('Reservation id.'),
  concertId: id('Concert id.'),
  seatId: id('Seat id (on sale again).'),
  seatNumber: Type.Integer({ minimum: 1 }),
  price: Type.Integer({ minimum: 1, description: 'What was paid, in won.' }),
  refundAmount: Type.Integer({
    minimum: 0,
    description: 'What went back to the balance: the price minus the concert’s refund fee.',
  }),
  cancelledBy: Type.Union([Type.Literal('buyer'), Type.Literal('operator')]),
  cancelledAt: isoTime('When the cancellation committed.'),
});

export const cancellationExample = {
  reservationId: 1,
  concertId: 1,
  seatId: 7,
  seatNumber: 7,
  price: 150_000,
  refundAmount: 150_000,
  cancelledBy: 'buyer',
  cancelledAt: '2026-12-02T09:00:00.000Z',
};

export const reservationIdParams = Type.Object({ reservationId: id('Reservation id.') });

const reservationExample = {
  reservationId: 1,
  concertId: 1,
  seatId: 7,
  seatNumber: 7,
  price: 150_000,
  balance: 50_000,
  reservedAt: '2026-12-01T09:00:00.000Z',
};

/** Payment and the caller's reservations, under /api/v1/reservations (src/app.ts). */
export function reservationRoutes(
  app: App,
  deps: { reservations: ReservationService; guards: Guards },
): void {
  const { reservations, guards } = deps;

  app.post(
    '',
    {
      config: { rateLimitGroup: 'booking' },
      // seatId or seatIds, not both: refused in words before the body's schema and the queue
      // token (a schema's `not` would say only "must NOT be valid").
      preValidation: (request, _reply, done) => {
        const body = request.body as Record<string, unknown> | null | undefined;
        const both =
          typeof body === 'object' && body !== null && 'seatId' in body && 'seatIds' in body;
        done(
          both
            ? new AppError(
                'INVALID_REQUEST',
                'Send seatId for one seat or seatIds for several, not both.',
                { field: 'seatIds' },
              )
            : undefined,
        );
      },
      schema: {
        tags,
        summary: 'Pay for your held seat (or seats)',
        description:
          'One transaction: checks your live hold, debits the balance, writes the ledger and the reservation, ' +
          'expires your queue token and records the event. Any failure changes nothing. A reservationUuid replay ' +
          'answers as the first request did (201, the same reservation, message Replayed) and never charges again. ' +
          'Send `seatId` for one seat (answered with the reservation), or `seatIds` to pay several held seats of one ' +
          'concert together when its ticket limit is above 1 (answered with one reservation per seat, a ledger USE row ' +
          'each): all or nothing — if one hold expired or is not yours, nothing is charged and the error names it ' +
          '(`data.seatId`).',
        headers: guards.queue.headers,
        security: guards.queue.security,
        body: Type.Object(
          {
            reservationUuid: idempotencyKey('Your idempotency key for this payment.'),
            seatId: Type.Optional(id('The seat you hold (send this or seatIds).')),
            seatIds: Type.Optional(
              Type.Array(id('A seat you hold.'), {
                minItems: 1,
                maxItems: 100,
                uniqueItems: true,
                description:
                  'Several seats you hold in one concert, paid together (send this or seatId).',
              }),
            ),
          },
          {
            additionalProperties: false,
            // One of them (both: refused by preValidation above).
            anyOf: [{ required: ['seatId'] }, { required: ['seatIds'] }],
          },
        ),
        response: responses(
          {
            status: 201,
            schema: successEnvelope(
              Type.Union([reservationSchema, orderSchema]),
              reservationExample,
              'Reserved',
            ),
            description: 'Reserved.',
            replayable: true,
          },
          [
            ...guards.queue.errors,
            'SEAT_NOT_FOUND',
            'HOLD_REQUIRED',
            'HOLD_EXPIRED',
            'SEAT_ALREADY_RESERVED',
            'CONCERT_ENDED',
            'SALE_NOT_OPEN',
            'SALE_CLOSED',
            'CONCERT_CANCELLED',
            'INSUFFICIENT_BALANCE',
            'IDEMPOTENCY_KEY_REUSED',
            ...bodyErrors,
          ],
        ),
      },
    },
    async (request, reply) => {
      const { seatId, seatIds } = request.body;
      const reservationUuid = request.body.reservationUuid.toLowerCase();
      const record = await guards.token.record(request);
      const result =
        seatIds === undefined
          ? await reservations.pay(record, { reservationUuid, seatId: seatId ?? 0 })
          : await reservations.payMany(record, { reservationUuid, seatIds });
      // A replay answers as the first request did (status and data); only the message differs.
      return reply.status(201).send(ok(result.value, result.replayed ? 'Replayed' : 'Reserved'));
    },
  );

  app.get(
    '',
    {
      config: { rateLimitGroup: 'account' },
      schema: {
        tags,
        summary: 'Your reservations',
        description: 'Newest first, at most `limit` (default 50).',
        headers: guards.user.headers,
        security: guards.user.security,
        querystring: Type.Object(
          { limit: Type.Integer({ minimum: 1, maximum: 100, default: 50 }) },
          { additionalProperties: false },
        ),
        response: responses(
          {
            status: 200,
            schema: successEnvelope(Type.Array(summarySchema), []),
            description: 'Your reservations.',
          },
          guards.user.errors,
        ),
      },
    },
    async (request) =>
      ok(await reservations.mine(await guards.user.userId(request), request.query.limit)),
  );

  app.post(
    '/:reservationId/cancel',
    {
      config: { rateLimitGroup: 'account' },
      schema: {
        tags,
        summary: 'Cancel your reservation',
        description:
          'One transaction: the reservation is cancelled, the price minus the concert’s refund fee goes back to ' +
          'your balance (a REFUND in the ledger), the seat is on sale again at once and the event is recorded. ' +
          'Allowed until the concert’s refund cut-off (its `refund_cutoff_hours` before the show, 24 by default). ' +
          'Idempotent: cancelling again answers 200 with the first cancellation (message `Already cancelled`) and ' +
          'refunds nothing more.',
        headers: guards.user.headers,
        security: guards.user.security,
        params: reservationIdParams,
        response: responses(
          {
            status: 200,
            schema: successEnvelope(cancellationSchema, cancellationExample, 'Cancelled'),
            description: 'Cancelled and refunded.',
          },
          [
            ...guards.user.errors,
            'RESERVATION_NOT_FOUND',
            'REFUND_CUTOFF_PASSED',
            'INVALID_REQUEST',
          ],
        ),
      },
    },
    async (request) => {
      const result = await reservations.cancel(
        await guards.user.userId(request),
        request.params.reservationId,
      );
      return ok(result.value, result.replayed ? 'Already cancelled' : 'Cancelled');
    },
  );
}
