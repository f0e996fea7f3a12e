import { Type } from 'typebox';
import type { App } from '../../shared/app-types.js';
import { isoTime, ok, responses, successEnvelope } from '../../shared/http.js';
import { MAX_LISTED, type SaleListing } from './rooms.listing.js';

const nullable = <T extends ReturnType<typeof Type.Integer> | ReturnType<typeof isoTime>>(
  schema: T,
  description: string,
) => Type.Union([schema, Type.Null()], { description });

const listedSchema = Type.Object({
  concertId: Type.Integer({ minimum: 1 }),
  concertTitle: Type.String(),
  concertVenue: Type.String(),
  concertDateTime: isoTime('When the show starts.'),
  priceMin: nullable(Type.Integer({ minimum: 0 }), 'Cheapest seat in won; null: no seats.'),
  priceMax: nullable(Type.Integer({ minimum: 0 }), 'Dearest seat in won; null: no seats.'),
  sale: Type.Enum(['on-sale', 'opening-soon', 'sold-out'], {
    description:
      'on-sale; opening-soon (the sale window or the room’s scheduled opening is ahead: `opensAt`); sold-out (every seat sold).',
  }),
  opensAt: nullable(
    isoTime('The opening.'),
    'When an opening-soon concert opens (its room’s draw, else its sale window’s start); null otherwise.',
  ),
  preQueueOpensAt: nullable(
    isoTime('The pre-queue’s start.'),
    'When the room’s pre-queue window starts, while it is still ahead (joins before it: 409 ROOM_NOT_OPEN_YET); null: open, or none.',
  ),
  hasRoom: Type.Boolean({
    description:
      'A waiting room of its own (join with its concertId); false: the house room serves it (join without one).',
  }),
  roomState: Type.Union([Type.Enum(['open', 'paused', 'queue-all', 'closed']), Type.Null()], {
    description: 'The room’s state (docs/rooms.md); null without a room.',
  }),
  seatsLeft: Type.Integer({ minimum: 0, description: 'Seats not sold (free or held).' }),
  soldOut: Type.Boolean(),
});

const listExample = {
  concerts: [
    {
      concertId: 12,
      concertTitle: 'Overture Philharmonic: New Year Gala',
      concertVenue: 'Seoul Arts Center Concert Hall',
      concertDateTime: '2027-01-01T11:00:00.000Z',
      priceMin: 55_000,
      priceMax: 150_000,
      sale: 'opening-soon',
      opensAt: '2026-12-08T11:00:00.000Z',
      preQueueOpensAt: null,
      hasRoom: true,
      roomState: 'open',
      seatsLeft: 2_500,
      soldOut: false,
    },
  ],
  page: 1,
  pageSize: 20,
  total: 1,
};

/** The buyers' public concert list, under /api/v1/queue (src/app.ts; decision 0064). */
export function saleListRoutes(app: App, deps: { listing: Pick<SaleListing, 'page'> }): void {
  app.get(
    '/rooms',
    {
      schema: {
        tags: ['queue'],
        summary: 'Concerts on sale, opening soon or sold out, publicly (paged)',
        description:
          'Every concert whose show is ahead, not cancelled and whose sale has not closed, by show time (the first ' +
          `${MAX_LISTED.toLocaleString('en')}): its sale status, opening, pre-queue window, price range, seats left, and whether it has a ` +
          'room of its own. No authentication and no queue token: a buyer sees what is on sale before joining any ' +
          'line. Each instance reads the list at most once per SALE_LIST_CACHE_MS (default 1 s) for every reader, ' +
          'so it may be that much behind; the room itself (GET /rooms/{concertId}) has the live line. Rate-limited per ' +
          'client address like every route. Decision 0064.',
        querystring: Type.Object(
          {
            page: Type.Optional(
              Type.Integer({ minimum: 1, maximum: 1_000, default: 1, description: 'From 1.' }),
            ),
            pageSize: Type.Optional(
              Type.Integer({
                minimum: 1,
                maximum: 100,
                default: 20,
                description: 'Concerts per page.',
              }),
            ),
          },
          { additionalProperties: false },
        ),
        response: responses(
          {
            status: 200,
            schema: successEnvelope(
              Type.Object({
                concerts: Type.Array(listedSchema),
                page: Type.Integer({ minimum: 1 }),
                pageSize: Type.Integer({ minimum: 1 }),
                total: Type.Integer({
                  minimum: 0,
                  description: 'Concerts in the whole list (a page past the end lists none).',
                }),
              }),
              listExample,
            ),
            description: 'One page of the list.',
          },
          ['INVALID_REQUEST', 'RATE_LIMITED'],
        ),
      },
    },
    async (request) =>
      ok(await deps.listing.page(request.query.page ?? 1, request.query.pageSize ?? 20)),
  );
}
