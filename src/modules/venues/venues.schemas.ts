import { Type } from 'typebox';
import { id, isoTime } from '../../shared/http.js';
import { MAX_VENUE_PLACES } from './venues.rules.js';

const name = (maxLength: number, description: string) =>
  Type.String({ minLength: 1, maxLength, pattern: '\\S', description });

const kind = Type.Union([Type.Literal('seated'), Type.Literal('general-admission')], {
  description: 'seated (rows of labelled seats; the default) or general-admission (a capacity).',
});

const seatInput = Type.Object(
  { label: name(50, 'How the ticket names the seat, e.g. "A-12"; unique in its section.') },
  { additionalProperties: false },
);

const rowInput = Type.Object(
  {
    name: name(50, 'Row name, unique in its section ("A", "12").'),
    seats: Type.Union(
      [
        Type.Integer({
          minimum: 1,
          maximum: 1_000,
          description: 'Compact: how many seats, numbered from start by step.',
        }),
        Type.Array(seatInput, {
          minItems: 1,
          maxItems: 1_000,
          description: 'Explicit: the seats in order.',
        }),
      ],
      { description: 'A seat count (compact form) or the seats listed (explicit form).' },
    ),
    start: Type.Optional(
      Type.Integer({ minimum: 0, maximum: 100_000, description: 'First seat number (default 1).' }),
    ),
    step: Type.Optional(
      Type.Integer({
        minimum: 1,
        maximum: 100,
        description: 'Between seat numbers (default 1; 2 numbers odd or even seats).',
      }),
    ),
  },
  { additionalProperties: false },
);

const sectionInput = Type.Object(
  {
    name: name(100, 'Section name, unique in the venue.'),
    kind: Type.Optional(kind),
    capacity: Type.Optional(
      Type.Integer({
        minimum: 1,
        maximum: MAX_VENUE_PLACES,
        description: 'General admission only: the places.',
      }),
    ),
    labels: Type.Optional(
      Type.String({
        minLength: 1,
        maxLength: 100,
        description:
          'Labels of counted rows: {section}, {row} and {seat} are replaced (default "{row}-{seat}": "A-12").',
      }),
    ),
    rows: Type.Optional(Type.Array(rowInput, { minItems: 1, maxItems: 2_000 })),
  },
  { additionalProperties: false },
);

const sections = Type.Array(sectionInput, {
  minItems: 1,
  maxItems: 500,
  description: `The seat map: sections → rows → seats, at most ${MAX_VENUE_PLACES} places in all.`,
});

const venueExample = {
  name: 'Olympic Hall',
  address: '424 Olympic-ro, Songpa-gu, Seoul',
  sections: [
    { name: 'Floor', kind: 'general-admission', capacity: 500 },
    {
      name: 'A',
      rows: [
        { name: 'A', seats: 20, start: 1 },
        { name: 'B', seats: [{ label: 'B-1' }, { label: 'B-2' }] },
      ],
    },
  ],
};

export const venueBody = Type.Object(
  {
    name: name(200, 'Venue name.'),
    address: name(500, 'Street address.'),
    sections,
  },
  { additionalProperties: false, examples: [venueExample] },
);

export const venuePatch = Type.Object(
  {
    name: Type.Optional(name(200, 'Venue name.')),
    address: Type.Optional(name(500, 'Street address.')),
    sections: Type.Optional(sections),
  },
  {
    additionalProperties: false,
    minProperties: 1,
    description:
      'The fields to change; `sections` replaces the whole map (only while no concert uses the venue).',
    examples: [{ name: 'Olympic Hall (KSPO Dome)' }],
  },
);

const common = {
  venueId: id('Venue id.'),
  name: Type.String(),
  address: Type.String(),
  seatCount: Type.Integer({ minimum: 0, description: 'Seats of seated sections.' }),
  capacity: Type.Integer({
    minimum: 1,
    description: 'Places in all: seats and general admission.',
  }),
  inUse: Type.Boolean({ description: 'A concert uses the venue: its map can no longer change.' }),
  createdAt: isoTime('When it was created.'),
  updatedAt: isoTime('When it last changed.'),
};

/** What every reply says of a section. */
const sectionCommon = {
  key: Type.String({
    description:
      'The section in URLs (…/sections/{sectionKey}), from its name; a concert on the venue gives it the same key.',
  }),
  name: Type.String(),
  kind,
  capacity: Type.Integer({ description: 'Places (general admission) or seats.' }),
  rowCount: Type.Integer({ minimum: 0 }),
};

const rows = Type.Array(
  Type.Object({
    name: Type.String(),
    seats: Type.Array(Type.Object({ label: Type.String() })),
  }),
  { description: 'Every seat listed, in order (the explicit form); none in general admission.' },
);

export const venueSummary = Type.Object({
  ...common,
  sections: Type.Array(Type.Object(sectionCommon)),
});

export const venueDetail = Type.Object({
  ...common,
  sections: Type.Array(
    Type.Object({
      ...sectionCommon,
      rows: Type.Optional(rows),
    }),
    { description: 'The sections; with `rows` unless `seats=false`.' },
  ),
});

export const venueSection = Type.Object({
  venueId: id('Venue id.'),
  ...sectionCommon,
  rows,
});

export const sectionKeyParam = Type.String({
  minLength: 1,
  maxLength: 100,
  pattern: '^[a-z0-9-]+$',
  description: 'The section’s key (`sections[].key` of the venue).',
  examples: ['stalls'],
});

export const summaryExample = {
  venueId: 1,
  name: venueExample.name,
  address: venueExample.address,
  seatCount: 22,
  capacity: 522,
  inUse: false,
  sections: [
    { key: 'floor', name: 'Floor', kind: 'general-admission', capacity: 500, rowCount: 0 },
    { key: 'a', name: 'A', kind: 'seated', capacity: 22, rowCount: 2 },
  ],
  createdAt: '2026-12-04T10:00:00.000Z',
  updatedAt: '2026-12-04T10:00:00.000Z',
};
