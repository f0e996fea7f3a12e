import { Type } from 'typebox';
import type { App } from '../../shared/app-types.js';
import { bodyErrors, id, isoTime, ok, responses, successEnvelope } from '../../shared/http.js';
import { auditContext, recordRefusals } from '../audit/audit.routes.js';
import type { AuditService } from '../audit/audit.service.js';
import type { Guards } from '../auth/guards.js';
import type { RoomService } from './rooms.service.js';
import type { Room } from './rooms.store.js';
import { MAX_DIFFICULTY } from '../queue/queue.service.js';

const tags = ['admin'];

const state = Type.Enum(['open', 'paused', 'queue-all', 'closed'], {
  description:
    'open; paused (line kept, joins accepted, nobody admitted); queue-all (a join never becomes ACTIVE at once; admission by cap and rate goes on); closed (no new joins: 409 ROOM_CLOSED; the line keeps its places and admission goes on).',
});
const maxActive = Type.Integer({
  minimum: 1,
  maximum: 100_000,
  description: 'Cap on ACTIVE shoppers (default MAX_ACTIVE).',
});
const admissionPerMinute = Type.Union(
  [Type.Integer({ minimum: 1, maximum: 1_000_000 }), Type.Null()],
  { description: 'Buyers admitted per minute at most, across all instances; null: no rate limit.' },
);

const powDifficulty = Type.Integer({
  minimum: 0,
  maximum: MAX_DIFFICULTY,
  description:
    'Leading zero bits of SHA-256 a join must prove (GET /api/v1/queue/rooms/{concertId}/challenge); 0: no proof of work. 18 ≈ 4–8 s in a desktop browser (docs/rooms.md). Above 0 needs POW_SECRET (409 POW_UNAVAILABLE). A raise applies to challenges already out (POW_TOO_EASY).',
});
const opensAt = Type.Union(
  [isoTime('The opening: the pre-queue is drawn then (must be in the future).'), Type.Null()],
  {
    description:
      'The scheduled opening (decision 0056). The first scheduling draws the lottery seed and publishes its commitment; moving the opening keeps the seed, removing it (null) once scheduled is 409 OPENING_CANNOT_BE_CLEARED; nothing changes after the opening (409 ROOM_ALREADY_OPENED).',
  },
);
const preQueueOpensAt = Type.Union(
  [isoTime('Start of the pre-queue window; before opensAt.'), Type.Null()],
  {
    description:
      'Joins before it are 409 ROOM_NOT_OPEN_YET; null: the pre-queue is open from the scheduling on.',
  },
);
const openingErrors = [
  'OPENING_IN_PAST',
  'PRE_QUEUE_NOT_BEFORE_OPENING',
  'ROOM_ALREADY_OPENED',
  'OPENING_CANNOT_BE_CLEARED',
] as const;

const roomSchema = Type.Object({
  concertId: Type.Integer({ minimum: 1 }),
  maxActive: Type.Integer({ minimum: 1 }),
  admissionPerMinute: Type.Union([Type.Integer({ minimum: 1 }), Type.Null()]),
  state,
  powDifficulty,
  createdAt: isoTime('When the room was created.'),
  updatedAt: isoTime('When its settings last changed.'),
  opensAt: Type.Union([isoTime('The scheduled opening.'), Type.Null()]),
  preQueueOpensAt: Type.Union([isoTime('Start of the pre-queue window.'), Type.Null()]),
  commitment: Type.Union([Type.String(), Type.Null()], {
    description: 'SHA-256 of the lottery seed (the seed stays secret until the opening).',
  }),
  openedAt: Type.Union([isoTime('When the draw was made.'), Type.Null()]),
});
const roomExample = {
  concertId: 12,
  maxActive: 50,
  admissionPerMinute: 120,
  state: 'open',
  powDifficulty: 0,
  createdAt: '2026-12-08T10:00:00.000Z',
  updatedAt: '2026-12-08T10:05:00.000Z',
  opensAt: null,
  preQueueOpensAt: null,
  commitment: null,
  openedAt: null,
};
const present = (room: Room) => ({
  concertId: room.concertId,
  maxActive: room.maxActive,
  admissionPerMinute: room.admissionPerMinute,
  state: room.state,
  powDifficulty: room.powDifficulty,
  createdAt: room.createdAt,
  updatedAt: room.updatedAt,
  opensAt: room.opensAt,
  preQueueOpensAt: room.preQueueOpensAt,
  commitment: room.commitment,
  openedAt: room.openedAt,
});

const params = Type.Object({ concertId: id('The concert of the room.') });

/**
 * Operators' waiting rooms, under /api/v1/admin/rooms (src/app.ts): a concert's own room and its
 * live settings (docs/rooms.md); every change in the audit log with before and after.
 */
export function roomRoutes(
  app: App,
  deps: { rooms: RoomService; audit: AuditService; guards: Guards },
): void {
  const { rooms, guards } = deps;
  const admin = guards.admin;
  recordRefusals(app, deps.audit);

  app.post(
    '',
    {
      config: { rateLimitGroup: 'account', audit: { action: 'room.create', targetType: 'room' } },
      preValidation: admin.check,
      schema: {
        tags,
        summary: 'Give a concert its own waiting room',
        description:
          'Joins with `{"concertId": …}` then go to this room; its tokens book only this concert, and house-room ' +
          'tokens no longer book it. Settings take effect on every instance within a second.',
        headers: admin.headers,
        security: admin.security,
        body: Type.Object(
          {
            concertId: id('The concert.'),
            maxActive: Type.Optional(maxActive),
            admissionPerMinute: Type.Optional(admissionPerMinute),
            state: Type.Optional(state),
            powDifficulty: Type.Optional(powDifficulty),
            opensAt: Type.Optional(opensAt),
            preQueueOpensAt: Type.Optional(preQueueOpensAt),
          },
          { additionalProperties: false },
        ),
        response: responses(
          {
            status: 201,
            schema: successEnvelope(roomSchema, roomExample, 'Created'),
            description: 'The room.',
          },
          [
            ...admin.errors,
            ...bodyErrors,
            'CONCERT_NOT_FOUND',
            'ROOM_EXISTS',
            'POW_UNAVAILABLE',
            ...openingErrors,
          ],
        ),
      },
    },
    async (request, reply) => {
      reply.code(201);
      return ok(present(await rooms.create(request.body, auditContext(request))), 'Created');
    },
  );

  app.get(
    '/:concertId',
    {
      config: { rateLimitGroup: 'account' },
      preValidation: admin.check,
      schema: {
        tags,
        summary: "A concert's waiting room and its settings",
        headers: admin.headers,
        security: admin.security,
        params,
        response: responses(
          {
            status: 200,
            schema: successEnvelope(roomSchema, roomExample),
            description: 'The room.',
          },
          [...admin.errors, 'INVALID_REQUEST', 'ROOM_NOT_FOUND'],
        ),
      },
    },
    async (request) => ok(present(await rooms.get(request.params.concertId))),
  );

  app.patch(
    '/:concertId',
    {
      config: {
        rateLimitGroup: 'account',
        audit: { action: 'room.update', targetType: 'room', targetParam: 'concertId' },
      },
      preValidation: admin.check,
      schema: {
        tags,
        summary: "Change a room's live settings",
        description:
          'Any of maxActive, admissionPerMinute (null: no limit), state, powDifficulty, opensAt and preQueueOpensAt. In effect on this instance when the ' +
          'reply is sent and on every other within a second, without a restart.',
        headers: admin.headers,
        security: admin.security,
        params,
        body: Type.Object(
          {
            maxActive: Type.Optional(maxActive),
            admissionPerMinute: Type.Optional(admissionPerMinute),
            state: Type.Optional(state),
            powDifficulty: Type.Optional(powDifficulty),
            opensAt: Type.Optional(opensAt),
            preQueueOpensAt: Type.Optional(preQueueOpensAt),
          },
          { additionalProperties: false, minProperties: 1 },
        ),
        response: responses(
          {
            status: 200,
            schema: successEnvelope(roomSchema, roomExample, 'Updated'),
            description: 'The room as changed.',
          },
          [...admin.errors, ...bodyErrors, 'ROOM_NOT_FOUND', 'POW_UNAVAILABLE', ...openingErrors],
        ),
      },
    },
    async (request) =>
      ok(
        present(await rooms.update(request.params.concertId, request.body, auditContext(request))),
        'Updated',
      ),
  );
}
