import { Type, type TSchema } from 'typebox';
import type { App } from '../../shared/app-types.js';
import { id, isoTime, ok, responses, successEnvelope } from '../../shared/http.js';
import type { Guards } from '../auth/guards.js';
import type { ConcertService } from './concerts.service.js';
import { notModifiedFor, snapshotBodies } from './seat-map.replies.js';

const tags = ['concerts'];

const concertSchema = Type.Object({
  concertId: id('Concert id.'),
  concertTitle: Type.String(),
  concertVenue: Type.String(),
  concertDateTime: isoTime('When the show starts.'),
  isAvailable: Type.Boolean({
    description: 'On sale now (the show ahead, inside its sale window) and at least one seat free.',
  }),
});

const nullable = <T extends TSchema>(schema: T, description: string) =>
  Type.Union([schema, Type.Null()], { description });

const seatSchema = Type.Object({
  seatId: id('Seat id (unique across concerts).'),
  seatNumber: Type.Integer({ minimum: 1, description: 'Seat number 1–50 within the concert.' }),
  price: Type.Integer({ minimum: 1, description: 'Price in won.' }),
  isAvailable: Type.Boolean({
    description:
      'Neither held nor sold, and the concert on sale now (show ahead, sale window open).',
  }),
  state: Type.Union([Type.Literal('free'), Type.Literal('held'), Type.Literal('sold')], {
    description:
      'sold, held (a live hold, maybe yours) or free; a free seat of a concert not on sale is not available.',
  }),
  sectionKey: nullable(Type.String(), 'The section’s key (…/sections/{sectionKey}/seats).'),
  section: nullable(Type.String(), 'The section’s name, from the venue’s map.'),
  row: nullable(Type.String(), 'The row’s name (null in general admission).'),
  label: nullable(Type.String(), 'How the ticket names the seat ("A-12", "GA-17").'),
  priceCategory: nullable(Type.String(), 'The seat’s price category.'),
});

const seatExample = {
  seatId: 1,
  seatNumber: 1,
  price: 150_000,
  isAvailable: true,
  state: 'free',
  sectionKey: 'stalls',
  section: 'Stalls',
  row: 'A',
  label: 'A-1',
  priceCategory: 'VIP',
};

const sectionSchema = Type.Object({
  sectionKey: Type.String({ description: 'The section in URLs, unique in the concert.' }),
  name: Type.String(),
  kind: Type.Union([Type.Literal('seated'), Type.Literal('general-admission')]),
  priceCategory: Type.String(),
  price: Type.Integer({ minimum: 1, description: 'Price in won.' }),
  capacity: Type.Integer({ minimum: 1, description: 'Seats or places.' }),
  free: Type.Integer({ minimum: 0, description: 'Neither held nor sold.' }),
  held: Type.Integer({ minimum: 0, description: 'Held right now (live holds).' }),
  sold: Type.Integer({ minimum: 0 }),
});

const concertIdParams = Type.Object({ concertId: id('Concert id.') });

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

/** A seat-map read's replies: those of `responses`, and a 304 to a page whose copy is current. */
const seatMapResponses = (...args: Parameters<typeof responses>): Record<number, TSchema> => ({
  ...responses(...args),
  304: Type.Null({
    description:
      'Not modified: the If-None-Match sent is the current ETag (the seat map has not changed); no body (docs/decisions/0061).',
  }),
});

/** Concerts and seat maps, under /api/v1/reservations/concerts (src/app.ts). */
export function concertRoutes(app: App, deps: { concerts: ConcertService; guards: Guards }): void {
  const { concerts, guards } = deps;
  // Each seat-map route's replies, serialized once per snapshot (decision 0065).
  const replies = {
    seats: snapshotBodies(),
    sections: snapshotBodies(),
    section: snapshotBodies(),
  };

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
        description:
          'Every seat. For a large venue read the sections (…/sections) and then one section’s seats instead.',
        params: concertIdParams,
        headers: guards.queue.headers,
        security: guards.queue.security,
        response: seatMapResponses(
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
                availableSeats: [seatExample],
              },
            ),
            description: 'All seats of the concert with their availability.',
          },
          [...guards.queue.errors, 'CONCERT_NOT_FOUND'],
        ),
      },
    },
    async (request, reply) => {
      const { concertId } = request.params;
      const record = await guards.token.record(request);
      const seats = await concerts.seats(record, concertId);
      if (notModifiedFor(request, reply, seats.etag)) return reply.code(304).send();
      return replies.seats.send(reply, seats.value, () =>
        ok({ concertId, availableSeats: seats.value }),
      );
    },
  );

  app.get(
    '/:concertId/sections',
    {
      config: { rateLimitGroup: 'booking' },
      schema: {
        tags,
        summary: 'Sections of one concert',
        description:
          'In map order, each with its price category and its seats counted (free, held, sold); empty for a ' +
          'concert without a venue.',
        params: concertIdParams,
        headers: guards.queue.headers,
        security: guards.queue.security,
        response: seatMapResponses(
          {
            status: 200,
            schema: successEnvelope(
              Type.Object({ concertId: id('Concert id.'), sections: Type.Array(sectionSchema) }),
              {
                concertId: 1,
                sections: [
                  {
                    sectionKey: 'stalls',
                    name: 'Stalls',
                    kind: 'seated',
                    priceCategory: 'VIP',
                    price: 150_000,
                    capacity: 400,
                    free: 380,
                    held: 5,
                    sold: 15,
                  },
                ],
              },
            ),
            description: 'The sections.',
          },
          [...guards.queue.errors, 'CONCERT_NOT_FOUND'],
        ),
      },
    },
    async (request, reply) => {
      const { concertId } = request.params;
      const record = await guards.token.record(request);
      const sections = await concerts.sections(record, concertId);
      if (notModifiedFor(request, reply, sections.etag)) return reply.code(304).send();
      return replies.sections.send(reply, sections.value, () =>
        ok({ concertId, sections: sections.value }),
      );
    },
  );

  app.get(
    '/:concertId/sections/:sectionKey/seats',
    {
      config: { rateLimitGroup: 'booking' },
      schema: {
        tags,
        summary: 'Seats of one section',
        params: Type.Object({
          concertId: id('Concert id.'),
          sectionKey: Type.String({
            minLength: 1,
            maxLength: 100,
            pattern: '^[a-z0-9-]+$',
            description: 'The section’s key (…/sections).',
            examples: ['stalls'],
          }),
        }),
        headers: guards.queue.headers,
        security: guards.queue.security,
        response: seatMapResponses(
          {
            status: 200,
            schema: successEnvelope(
              Type.Object({
                concertId: id('Concert id.'),
                sectionKey: Type.String(),
                seats: Type.Array(seatSchema, {
                  description: 'The section’s seats in seat order.',
                }),
              }),
              { concertId: 1, sectionKey: 'stalls', seats: [seatExample] },
            ),
            description: 'The section’s seats with their availability.',
          },
          [...guards.queue.errors, 'CONCERT_NOT_FOUND', 'SECTION_NOT_FOUND'],
        ),
      },
    },
    async (request, reply) => {
      const { concertId, sectionKey } = request.params;
      const record = await guards.token.record(request);
      const seats = await concerts.sectionSeats(record, concertId, sectionKey);
      if (notModifiedFor(request, reply, seats.etag)) return reply.code(304).send();
      return replies.section.send(reply, seats.value, () =>
        ok({ concertId, sectionKey, seats: seats.value }),
      );
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
