import { Type } from 'typebox';
import { id, isoTime } from '../../shared/http.js';
import { HOLD_SECONDS } from './catalogue.rules.js';

const text = (maxLength: number, description: string) =>
  Type.String({ minLength: 1, maxLength, pattern: '\\S', description });

const priceCategory = Type.Object(
  {
    name: text(100, 'Category name, unique in the concert ("VIP", "R").'),
    price: Type.Integer({
      minimum: 1,
      maximum: 100_000_000,
      description: 'Price in won (a positive integer).',
    }),
    sections: Type.Array(text(100, 'A section of the venue, by name.'), {
      minItems: 1,
      maxItems: 500,
      description:
        'The venue’s sections sold at this price; every section in exactly one category.',
    }),
  },
  { additionalProperties: false },
);

const priceCategories = Type.Array(priceCategory, {
  minItems: 1,
  maxItems: 100,
  description: 'Price categories, each mapped to whole sections of the venue.',
});

const saleSettings = {
  saleOpensAt: Type.Optional(isoTime('When holds and payments start (default: now).')),
  saleClosesAt: Type.Optional(
    isoTime('When holds and payments stop (default: the show time); ≤ showAt, > saleOpensAt.'),
  ),
  ticketLimit: Type.Optional(
    Type.Integer({
      minimum: 1,
      maximum: 100,
      description:
        'Seats one buyer may have at once (default 1), held and paid together, across every payment of theirs for this concert; refunded seats do not count. 1 keeps the seed’s rule: one live hold at a time, a new hold replacing the previous one. Above 1, holds add up and a hold past the limit is 409 TICKET_LIMIT_REACHED; several held seats are paid together with `seatIds`.',
    }),
  ),
  holdSeconds: Type.Optional(
    Type.Integer({
      minimum: HOLD_SECONDS.min,
      maximum: HOLD_SECONDS.max,
      description: 'Lifetime of a new hold (default: SEAT_HOLD_TTL_SECONDS).',
    }),
  ),
  refundCutoffHours: Type.Optional(
    Type.Integer({
      minimum: 0,
      maximum: 8_760,
      description: 'Refunds allowed up to this many hours before the show (default 24).',
    }),
  ),
  refundFeePercent: Type.Optional(
    Type.Integer({
      minimum: 0,
      maximum: 100,
      description: 'Part of the price kept on a refund, in percent (default 0).',
    }),
  ),
};

const concertExample = {
  title: 'Overture Philharmonic: New Year Gala',
  venueId: 1,
  showAt: '2027-01-01T10:00:00.000Z',
  description: 'Beethoven 9.',
  priceCategories: [
    { name: 'VIP', price: 150_000, sections: ['A'] },
    { name: 'Floor', price: 90_000, sections: ['Floor'] },
  ],
  saleOpensAt: '2026-12-10T01:00:00.000Z',
  holdSeconds: 300,
};

export const concertBody = Type.Object(
  {
    title: text(200, 'Concert title.'),
    venueId: id('The venue whose seat map gives the seats.'),
    showAt: isoTime('When the show starts (in the future).'),
    description: Type.Optional(Type.String({ maxLength: 5_000, description: 'Free text.' })),
    priceCategories,
    ...saleSettings,
  },
  { additionalProperties: false, examples: [concertExample] },
);

export const concertPatch = Type.Object(
  {
    title: Type.Optional(text(200, 'Concert title.')),
    venueId: Type.Optional(id('Another venue (send its priceCategories too).')),
    showAt: Type.Optional(isoTime('When the show starts (in the future, ≥ saleClosesAt).')),
    description: Type.Optional(Type.String({ maxLength: 5_000, description: 'Free text.' })),
    priceCategories: Type.Optional(priceCategories),
    ...saleSettings,
  },
  {
    additionalProperties: false,
    minProperties: 1,
    description:
      'The fields to change. Title, description, show time and sale settings always; the venue and the price ' +
      'categories only while no seat is held or sold (409 CONCERT_HAS_SALES).',
    examples: [{ title: 'New Year Gala (second night)' }],
  },
);

export const concertDetail = Type.Object({
  concertId: id('Concert id.'),
  title: Type.String(),
  description: Type.String(),
  venueId: Type.Union([id('The venue.'), Type.Null()], {
    description: 'null: seats made directly (the demo’s concerts).',
  }),
  venueName: Type.String({ description: 'The venue’s name (the buyers’ concertVenue).' }),
  showAt: isoTime('When the show starts.'),
  saleOpensAt: Type.Union([isoTime('Sale opens.'), Type.Null()], {
    description: 'null: open from the start.',
  }),
  saleClosesAt: Type.Union([isoTime('Sale closes.'), Type.Null()], {
    description: 'null: closes with the show.',
  }),
  ticketLimit: Type.Integer({ minimum: 1 }),
  holdSeconds: Type.Union([Type.Integer(), Type.Null()], {
    description: 'null: SEAT_HOLD_TTL_SECONDS.',
  }),
  refundCutoffHours: Type.Integer({ minimum: 0 }),
  refundFeePercent: Type.Integer({ minimum: 0, maximum: 100 }),
  seatCount: Type.Integer({ minimum: 0 }),
  priceCategories: Type.Array(
    Type.Object({
      name: Type.String(),
      price: Type.Integer({ minimum: 1 }),
      sections: Type.Array(Type.String()),
    }),
  ),
  createdAt: isoTime('When it was created.'),
  updatedAt: isoTime('When it last changed.'),
});

export const detailExample = {
  concertId: 2,
  title: concertExample.title,
  description: concertExample.description,
  venueId: 1,
  venueName: 'Olympic Hall',
  showAt: concertExample.showAt,
  saleOpensAt: concertExample.saleOpensAt,
  saleClosesAt: concertExample.showAt,
  ticketLimit: 1,
  holdSeconds: 300,
  refundCutoffHours: 24,
  refundFeePercent: 0,
  seatCount: 522,
  priceCategories: concertExample.priceCategories,
  createdAt: '2026-12-04T10:00:00.000Z',
  updatedAt: '2026-12-04T10:00:00.000Z',
};
