import type { App } from '../../shared/app-types.js';
import { ok, responses, successEnvelope } from '../../shared/http.js';
import { recordRefusals } from '../audit/audit.routes.js';
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
      const result = await reservations.cancelAsOperator(request.params.reservationId, {
        actor: request.operator?.actor ?? 'unknown',
        requestId: request.id,
      });
      return ok(result.value, result.replayed ? 'Already cancelled' : 'Cancelled');
    },
  );
}
