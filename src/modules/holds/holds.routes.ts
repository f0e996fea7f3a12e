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
import type { HoldService } from './holds.service.js';

const tags = ['holds'];

const holdSchema = Type.Object({
  concertId: id('Concert id.'),
  seatId: id('Seat id.'),
  seatNumber: Type.Integer({ minimum: 1 }),
  expiresAt: isoTime('The hold ends then (never extended by a repeat request).'),
});

const holdExample = {
  concertId: 1,
  seatId: 7,
  seatNumber: 7,
  expiresAt: '2026-12-08T10:05:00.000Z',
};

/** Seat holds, under /api/v1/reservations/concerts (src/app.ts). */
export function holdRoutes(app: App, deps: { holds: HoldService; guards: Guards }): void {
  const { holds, guards } = deps;
  const params = Type.Object({ concertId: id('Concert id.') });

  app.post(
    '/:concertId/seats/hold',
    {
      config: { rateLimitGroup: 'booking' },
      schema: {
        tags,
        summary: 'Hold a seat for a few minutes',
        description:
          'At the concert’s ticket limit 1 (the default), one live hold per user: holding another seat releases the ' +
          'previous one in the same transaction (if the new seat cannot be had, the previous hold stays). Above 1, ' +
          'holds in the concert add up until your held and paid seats reach the limit (then 409 TICKET_LIMIT_REACHED); ' +
          'a hold in another concert still releases them. Asking again for the seat you hold returns ' +
          'that hold unchanged. A seatHoldUuid replay answers as the first request did (201, the same data, message Replayed).',
        params,
        headers: guards.queue.headers,
        security: guards.queue.security,
        body: Type.Object(
          {
            seatHoldUuid: idempotencyKey('Your idempotency key for this hold.'),
            concertId: id('Must equal the concert in the path.'),
            seatId: id('The seat to hold.'),
          },
          { additionalProperties: false },
        ),
        response: responses(
          {
            status: 201,
            schema: successEnvelope(holdSchema, holdExample),
            description: 'Held.',
            replayable: true,
          },
          [
            ...guards.queue.errors,
            'CONCERT_NOT_FOUND',
            'SEAT_NOT_FOUND',
            'CONCERT_ENDED',
            'SALE_NOT_OPEN',
            'SALE_CLOSED',
            'CONCERT_CANCELLED',
            'SEAT_ALREADY_HELD',
            'SEAT_ALREADY_RESERVED',
            'TICKET_LIMIT_REACHED',
            'IDEMPOTENCY_KEY_REUSED',
            ...bodyErrors,
          ],
        ),
      },
    },
    async (request, reply) => {
      const { concertId } = request.params;
      if (request.body.concertId !== concertId) {
        throw new AppError(
          'INVALID_REQUEST',
          'body concertId must equal the concert in the path.',
          { field: 'concertId' },
        );
      }
      const record = await guards.token.record(request);
      const result = await holds.hold(record, {
        ...request.body,
        seatHoldUuid: request.body.seatHoldUuid.toLowerCase(),
      });
      // A replay answers as the first request did (status and data); only the message differs.
      return reply.status(201).send(ok(result.value, result.replayed ? 'Replayed' : 'Held'));
    },
  );

  app.delete(
    '/:concertId/seats/hold',
    {
      config: { rateLimitGroup: 'booking' },
      schema: {
        tags,
        summary: 'Release your holds in this concert',
        description:
          'Releases every live hold of yours in the concert (several when its ticket limit is above 1) and answers one of them.',
        params,
        headers: guards.queue.headers,
        security: guards.queue.security,
        response: responses(
          {
            status: 200,
            schema: successEnvelope(holdSchema, holdExample, 'Released'),
            description: 'The hold that was released.',
          },
          [...guards.queue.errors, 'HOLD_NOT_FOUND'],
        ),
      },
    },
    async (request) => {
      const record = await guards.token.record(request);
      return ok(await holds.release(record, request.params.concertId), 'Released');
    },
  );
}
