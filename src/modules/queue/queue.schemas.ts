import { Type } from 'typebox';
import { isoTime } from '../../shared/http.js';

const tokenStatus = Type.Enum(['WAITING', 'ACTIVE', 'EXPIRED'], {
  description:
    'WAITING in line → ACTIVE (may shop) → EXPIRED (time ran out, paid, or left; queue again).',
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
          "WAITING: position over the room's steady admission rate (its admissions over the last ADMISSION_RATE_WINDOW_SECONDS in six buckets, the fullest bucket lowered to the second fullest so one burst does not move it; never above the room's admissionPerMinute), rounded up; ACTIVE: 0. docs/decisions/0058.",
      }),
      Type.Null(),
    ],
    {
      description:
        'null when EXPIRED, or while the room has no steady pace yet (admissions in fewer than two buckets of the window).',
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
  opensAt: Type.Union([isoTime('The scheduled opening (not yet supported: null).'), Type.Null()]),
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
  commitment: Type.Union([Type.String(), Type.Null()], {
    description: 'The lottery commitment (not yet supported: null).',
  }),
});

export const roomViewExample = {
  concertId: 12,
  state: 'open',
  opensAt: null,
  waiting: 340,
  active: 50,
  maxActive: 50,
  admissionPerMinute: 120,
  admissionRate: 118,
  seatsLeft: 812,
  commitment: null,
};
