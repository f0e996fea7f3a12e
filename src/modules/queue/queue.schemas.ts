import { Type } from 'typebox';
import { isoTime } from '../../shared/http.js';

const tokenStatus = Type.Enum(['WAITING', 'ACTIVE', 'EXPIRED', 'PRE_QUEUE', 'SOLD_OUT'], {
  description:
    "WAITING in line → ACTIVE (may shop) → EXPIRED (time ran out, paid, or left; queue again). PRE_QUEUE: in a room's pre-queue before its opening, no place yet (docs/lottery.md); WAITING with a place from the opening on. SOLD_OUT: waiting in a room whose concert has no free and no held seat — the place is kept (the line is the waiting list) and turns WAITING again if seats come back (docs/rooms.md).",
});

export const tokenStatusSchema = Type.Object({
  status: tokenStatus,
  position: Type.Integer({
    minimum: 0,
    description: '0 when ACTIVE or EXPIRED; the exact 1-based place in line when WAITING.',
  }),
  expiresAt: Type.Union([
    isoTime('ACTIVE: when the token ends. WAITING: poll before this or lose the place.'),
    Type.Null(),
  ]),
  concertId: Type.Union([Type.Integer({ minimum: 1 }), Type.Null()], {
    description:
      "The token's room: its concert (the token books only that concert), null for the house room (every concert without a room of its own).",
  }),
  receiptId: Type.Optional(
    Type.Union([Type.String(), Type.Null()], {
      description:
        "The pre-queue entry's public lottery receipt (find your place in GET /api/v1/queue/rooms/{concertId}/draw); null when the token never was in a pre-queue.",
    }),
  ),
  opensAt: Type.Optional(
    Type.Union([isoTime('PRE_QUEUE: the opening, when places are drawn.'), Type.Null()]),
  ),
  ahead: Type.Integer({
    minimum: 0,
    description: 'People ahead in line: position − 1 while WAITING, else 0.',
  }),
  seatsLeft: Type.Union([Type.Integer({ minimum: 0 }), Type.Null()], {
    description:
      "Seats of the room's concert free or held (not sold), read at most once a second per room; null for the house room (it serves every concert without a room).",
  }),
});

export const tokenSchema = Type.Object({
  token: Type.String({ description: 'Send it as the Queue-Token header.' }),
  ...tokenStatusSchema.properties,
});

export const tokenExample = {
  token: 'q8Vd3J0vW2c7cX1mQ0yZ6n4HkLr9Tt5A',
  status: 'WAITING',
  position: 12,
  expiresAt: '2026-12-08T10:30:00.000Z',
  concertId: null,
  ahead: 11,
  seatsLeft: null,
};

export const liveStatusSchema = Type.Object({
  ...tokenStatusSchema.properties,
  estimatedWaitSeconds: Type.Union(
    [
      Type.Integer({
        minimum: 0,
        description:
          "WAITING: position over the room's steady admission rate (its admissions in the last ADMISSION_RATE_WINDOW_SECONDS after the oldest admission run there, over the time since that run; counted in six buckets, the fullest lowered to the second fullest's pace so one burst does not move it; never above the room's admissionPerMinute), rounded up to a step of at most 10% of the wait (whole seconds under 20 s); ACTIVE: 0. docs/decisions/0058.",
      }),
      Type.Null(),
    ],
    {
      description:
        'null when EXPIRED, or while the room has no steady pace yet (admissions after its oldest run of the window in fewer than two buckets).',
    },
  ),
});

export const liveStatusExample = {
  status: 'WAITING',
  position: 12,
  expiresAt: tokenExample.expiresAt,
  estimatedWaitSeconds: 45,
  concertId: null,
  ahead: 11,
  seatsLeft: null,
};

export const roomStateSchema = Type.Enum(['open', 'paused', 'queue-all', 'closed'], {
  description:
    'open; paused (line kept, joins accepted, nobody admitted); queue-all (nobody is admitted at the join, admission by cap and rate goes on); closed (no new joins, the line keeps its places and admission goes on).',
});

export const roomViewSchema = Type.Object({
  concertId: Type.Integer({ minimum: 1 }),
  state: roomStateSchema,
  opensAt: Type.Union([
    isoTime('The scheduled opening (the lottery draw); null: none.'),
    Type.Null(),
  ]),
  preQueueOpensAt: Type.Union([
    isoTime('From when joins enter the pre-queue; null: from the scheduling on.'),
    Type.Null(),
  ]),
  openedAt: Type.Union([isoTime('When the draw was made; null: not yet.'), Type.Null()]),
  seed: Type.Union([Type.String({ pattern: '^[0-9a-f]{64}$' }), Type.Null()], {
    description: 'The lottery seed (hex), published at the opening; null before.',
  }),
  preQueue: Type.Integer({
    minimum: 0,
    description:
      'Entries in the pre-queue (before the opening: waiting for the draw; after: drawn, or arrived before the draw reached the line).',
  }),
  waiting: Type.Integer({ minimum: 0, description: 'Tokens in line.' }),
  active: Type.Integer({ minimum: 0, description: 'Shoppers admitted now.' }),
  maxActive: Type.Integer({ minimum: 1 }),
  admissionPerMinute: Type.Union([Type.Integer({ minimum: 1 }), Type.Null()], {
    description: 'The admission rate limit; null: none.',
  }),
  admissionRate: Type.Number({
    minimum: 0,
    description:
      'Admissions per minute measured over the rate window (ADMISSION_RATE_WINDOW_SECONDS).',
  }),
  seatsLeft: Type.Integer({
    minimum: 0,
    description: 'Seats of the concert free or held (not sold).',
  }),
  soldOut: Type.Boolean({
    description:
      'Every seat is sold: the line is told SOLD_OUT and nobody is admitted until a seat comes back.',
  }),
  powDifficulty: Type.Integer({
    minimum: 0,
    description:
      'Leading zero bits a join must prove (GET …/challenge); 0: no proof of work (docs/rooms.md).',
  }),
  commitment: Type.Union([Type.String(), Type.Null()], {
    description:
      'SHA-256 of the lottery seed (hex), published when the opening is scheduled; null: no opening.',
  }),
});

export const roomViewExample = {
  concertId: 12,
  state: 'open',
  opensAt: '2026-12-08T20:00:00.000Z',
  waiting: 340,
  active: 50,
  maxActive: 50,
  admissionPerMinute: 120,
  admissionRate: 118,
  seatsLeft: 812,
  soldOut: false,
  powDifficulty: 0,
  commitment: '6c86c6aac5fb24bcf5d9939cb7d7d5645ce39418f449e03b262dd4fa14b4b92b',
  preQueueOpensAt: '2026-12-08T19:00:00.000Z',
  openedAt: '2026-12-08T20:00:00.012Z',
  seed: '000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f',
  preQueue: 2500,
};

export const drawPageSchema = Type.Object({
  concertId: Type.Integer({ minimum: 1 }),
  seed: Type.Union([Type.String(), Type.Null()], { description: 'null before the opening.' }),
  commitment: Type.Union([Type.String(), Type.Null()], { description: 'SHA-256 of the seed.' }),
  total: Type.Integer({ minimum: 0, description: 'Receipts drawn (0 before the opening).' }),
  page: Type.Integer({ minimum: 1 }),
  pageSize: Type.Integer({ minimum: 1 }),
  receipts: Type.Array(Type.String(), {
    description: 'Receipt ids of places (page−1)·pageSize+1 … page·pageSize, in place order.',
  }),
});

export const drawPageExample = {
  concertId: 12,
  seed: roomViewExample.seed,
  commitment: roomViewExample.commitment,
  total: 2500,
  page: 2,
  pageSize: 1000,
  receipts: ['bZfJa0KzfKA667InYcDzPQ', '5qB-jSqh9RGyqwmqCjB86A'],
};

/** A proof-of-work challenge (GET /api/v1/queue/rooms/{concertId}/challenge). */
export const challengeSchema = Type.Object({
  challenge: Type.String({ description: 'Hash it exactly as received.' }),
  difficulty: Type.Integer({ minimum: 0, description: 'Leading zero bits required.' }),
  expiresAt: isoTime('Solve and join before this.'),
});
export const challengeExample = {
  challenge: 'pow1.12.18.1796450466.mY1d3Zq0rWc6vX2nQ8yT4g.' + 'h'.repeat(43),
  difficulty: 18,
  expiresAt: '2026-12-08T10:35:00.000Z',
};
