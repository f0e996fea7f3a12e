import { Type, type TSchema } from 'typebox';
import type { ErrorCode } from '../../shared/errors.js';
import type { App } from '../../shared/app-types.js';
import { bodyErrors, id, isoTime, ok, responses, successEnvelope } from '../../shared/http.js';
import { auditContext, recordRefusals } from '../audit/audit.routes.js';
import type { AuditService } from '../audit/audit.service.js';
import type { Guards } from '../auth/guards.js';
import {
  cancellationExample,
  cancellationSchema,
  reservationIdParams,
} from './reservations.routes.js';
import type { ReservationService } from './reservations.service.js';

/** Operators' actions on reservations, under /api/v1/admin/reservations (src/app.ts). */
export function adminReservationRoutes(
  app: App,
  deps: { reservations: ReservationService; audit: AuditService; guards: Guards },
): void {
  const { reservations, guards } = deps;
  const admin = guards.admin;
  recordRefusals(app, deps.audit);

  app.post(
    '/:reservationId/cancel',
    {
      config: {
        rateLimitGroup: 'account',
        audit: {
          action: 'reservation.cancel',
          targetType: 'reservation',
          targetParam: 'reservationId',
        },
      },
      preValidation: admin.check,
      schema: {
        tags: ['admin'],
        summary: 'Cancel a reservation (full refund)',
        description:
          'One transaction: the reservation is cancelled, its whole price goes back to the buyer’s balance (a ' +
          'REFUND in the ledger; no fee, no cut-off), the seat is on sale again at once, the event is recorded and ' +
          'the audit log gets the reservation before and after. Idempotent: a reservation already cancelled ' +
          '(by its buyer or an operator) answers 200 with that cancellation (message `Already cancelled`) and ' +
          'refunds nothing more.',
        headers: admin.headers,
        security: admin.security,
        params: reservationIdParams,
        response: responses(
          {
            status: 200,
            schema: successEnvelope(
              cancellationSchema,
              { ...cancellationExample, cancelledBy: 'operator' },
              'Cancelled',
            ),
            description: 'Cancelled and refunded in full.',
          },
          [...admin.errors, 'RESERVATION_NOT_FOUND', 'INVALID_REQUEST'],
        ),
      },
    },
    async (request) => {
      const result = await reservations.cancelAsOperator(
        request.params.reservationId,
        auditContext(request),
      );
      return ok(result.value, result.replayed ? 'Already cancelled' : 'Cancelled');
    },
  );
}

const showCancelJobSchema = Type.Object({
  concertId: id('The cancelled concert.'),
  state: Type.Union([Type.Literal('running'), Type.Literal('done')], {
    description: 'running until every reservation of the show is cancelled and refunded.',
  }),
  reason: Type.Union([Type.String(), Type.Null()]),
  requestedBy: Type.String({ description: 'The operator who cancelled the show.' }),
  total: Type.Integer({
    description:
      'Live reservations when the show was cancelled (plus any payment that committed racing it).',
  }),
  refunded: Type.Integer({ description: 'Reservations the job cancelled and refunded in full.' }),
  remaining: Type.Integer({ description: 'Live reservations of the show still to cancel.' }),
  startedAt: isoTime('When the show was cancelled.'),
  finishedAt: Type.Union([isoTime('When the last reservation was refunded.'), Type.Null()]),
});

const showCancelJobExample = {
  concertId: 1,
  state: 'running' as const,
  reason: 'The artist is ill',
  requestedBy: 'operator',
  total: 50,
  refunded: 20,
  remaining: 30,
  startedAt: '2026-12-04T20:00:00.000Z',
  finishedAt: null,
};

/** Two successes (202 new, 200 repeat): a table typed by status number. */
const cancelShowResponses = (errors: ErrorCode[]): Record<number, TSchema> => ({
  ...responses(
    {
      status: 202,
      schema: successEnvelope(showCancelJobSchema, showCancelJobExample, 'Cancelling'),
      description: 'Cancelled; the job refunds the reservations.',
    },
    [...errors, 'CONCERT_NOT_FOUND', ...bodyErrors],
  ),
  200: {
    ...successEnvelope(showCancelJobSchema, showCancelJobExample, 'Already cancelled'),
    description: 'Cancelled before: the same job, as it stands.',
  },
});

const concertIdParams = Type.Object({ concertId: id('Concert id.') });

/** Operators' cancellation of a whole show, under /api/v1/admin/concerts (src/app.ts; 0039). */
export function adminShowCancelRoutes(
  app: App,
  deps: { reservations: ReservationService; audit: AuditService; guards: Guards },
): void {
  const { reservations, guards } = deps;
  const admin = guards.admin;
  recordRefusals(app, deps.audit);

  app.post(
    '/:concertId/cancel',
    {
      config: {
        rateLimitGroup: 'account',
        audit: { action: 'concert.cancel', targetType: 'concert', targetParam: 'concertId' },
      },
      preValidation: [
        admin.check,
        // The body is optional: none is an empty one (JSON Schema would refuse `undefined`).
        (request, _reply, done) => {
          const body: unknown = request.body;
          if (body === undefined) request.body = {};
          done();
        },
      ],
      schema: {
        tags: ['admin'],
        summary: 'Cancel a show (every reservation refunded)',
        description:
          'One transaction marks the concert cancelled, releases its holds, creates its show-cancel job and ' +
          'writes the audit entry; from that commit on, holds and payments on it answer 409 `CONCERT_CANCELLED` ' +
          'and the buyer list shows it unavailable. The job then cancels every reservation with a full refund ' +
          '(as `POST /admin/reservations/{id}/cancel` does, audited per reservation), on any instance, surviving ' +
          'restarts; follow it with `GET` on this path. Answers 202 with the new job; a repeat answers 200 with ' +
          'the same job (message `Already cancelled`).',
        headers: admin.headers,
        security: admin.security,
        params: concertIdParams,
        body: Type.Object(
          {
            reason: Type.Optional(
              Type.String({ minLength: 1, maxLength: 500, description: 'Why, for the record.' }),
            ),
          },
          { additionalProperties: false, description: 'Optional: no body is `{}`.' },
        ),
        response: cancelShowResponses(admin.errors),
      },
    },
    async (request, reply) => {
      const result = await reservations.cancelShow(
        request.params.concertId,
        request.body.reason ?? null,
        auditContext(request),
      );
      return reply
        .status(result.replayed ? 200 : 202)
        .send(ok(result.value, result.replayed ? 'Already cancelled' : 'Cancelling'));
    },
  );

  app.get(
    '/:concertId/cancel',
    {
      config: { rateLimitGroup: 'account' },
      preValidation: admin.check,
      schema: {
        tags: ['admin'],
        summary: 'Progress of a show’s cancellation',
        description: 'The show-cancel job: running or done, reservations refunded and remaining.',
        headers: admin.headers,
        security: admin.security,
        params: concertIdParams,
        response: responses(
          {
            status: 200,
            schema: successEnvelope(showCancelJobSchema, showCancelJobExample),
            description: 'The job.',
          },
          [...admin.errors, 'SHOW_CANCEL_NOT_FOUND', 'INVALID_REQUEST'],
        ),
      },
    },
    async (request) => ok(await reservations.showCancelJob(request.params.concertId)),
  );
}
