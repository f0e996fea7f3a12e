import { Type } from 'typebox';
import type { App } from '../../shared/app-types.js';
import { id, isoTime, ok, responses, successEnvelope } from '../../shared/http.js';
import type { Guards } from '../auth/guards.js';
import type { ConcertService } from './concerts.service.js';

const tags = ['concerts'];

const concertSchema = Type.Object({
  concertId: id('Concert id.'),
  concertTitle: Type.String(),
  concertVenue: Type.String(),
  concertDateTime: isoTime('When the show starts.'),
  isAvailable: Type.Boolean({ description: 'The show is ahead and at least one seat is free.' }),
});

const seatSchema = Type.Object({
  seatId: id('Seat id (unique across concerts).'),
  seatNumber: Type.Integer({ minimum: 1, description: 'Seat number 1–50 within the concert.' }),
  price: Type.Integer({ minimum: 1, description: 'Price in won.' }),
  isAvailable: Type.Boolean({ description: 'Neither held nor sold, and the show is ahead.' }),
});

const popularSchema = Type.Object({
  concertId: id('Concert id.'),
  concertTitle: Type.String(),
  concertVenue: Type.String(),
  concertDateTime: isoTime('When the show starts.'),
  reservedCount: Type.Integer({ minimum: 1, description: 'Confirmed reservations.' }),
});

const concertExample = {
  concertId: 1,
  concertTitle: 'Overture Philharmonic: New Year Gala',
  concertVenue: 'Seoul Arts Center Concert Hall',
  concertDateTime: '2026-12-08T10:00:00.000Z',
};

/** Concerts and seat maps, under /api/v1/reservations/concerts (src/app.ts). */
export function concertRoutes(app: App, deps: { concerts: ConcertService; guards: Guards }): void {
  const { concerts, guards } = deps;

  app.get(
    '',
    {
      config: { rateLimitGroup: 'booking' },
      schema: {
        tags,
        summary: 'Concerts on sale',
        headers: guards.queue.headers,
        security: guards.queue.security,
        response: responses(
          {
            status: 200,
            schema: successEnvelope(Type.Array(concertSchema), [
              { ...concertExample, isAvailable: true },
            ]),
            description: 'Every concert, soonest first.',
          },
          guards.queue.errors,
        ),
      },
    },
    async (request) => {
      const record = await guards.token.record(request);
      return ok(await concerts.list(record));
    },
  );

  app.get(
    '/:concertId/seats',
    {
      config: { rateLimitGroup: 'booking' },
      schema: {
        tags,
        summary: 'Seat map of one concert',
        params: Type.Object({ concertId: id('Concert id.') }),
        headers: guards.queue.headers,
        security: guards.queue.security,
        response: responses(
          {
            status: 200,
            schema: successEnvelope(
              Type.Object({
                concertId: id('Concert id.'),
                availableSeats: Type.Array(seatSchema, {
                  description:
                    "Every seat of the concert in seat order, held and sold ones too (the seed's name for the seat map); isAvailable says which can be held now.",
                }),
              }),
              {
                concertId: 1,
                availableSeats: [{ seatId: 1, seatNumber: 1, price: 150_000, isAvailable: true }],
              },
            ),
            description: 'All seats of the concert with their availability.',
          },
          [...guards.queue.errors, 'CONCERT_NOT_FOUND'],
        ),
      },
    },
    async (request) => {
      const { concertId } = request.params;
      const record = await guards.token.record(request);
      return ok({ concertId, availableSeats: await concerts.seats(record, concertId) });
    },
  );

  app.get(
    '/popular',
    {
      schema: {
        tags,
        summary: 'Most reserved concerts',
        description:
          'Top concerts by confirmed reservations, counted after each payment commits (at most a second stale).',
        response: responses(
          {
            status: 200,
            schema: successEnvelope(Type.Array(popularSchema), [
              { ...concertExample, reservedCount: 42 },
            ]),
            description: 'Most reserved first.',
          },
          [],
        ),
      },
    },
    async () => ok(await concerts.popular()),
  );
}
