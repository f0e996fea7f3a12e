import { Type } from 'typebox';
import type { App } from '../../shared/app-types.js';
import { AppError } from '../../shared/errors.js';
import { isoTime, ok, responses, successEnvelope, uuid } from '../../shared/http.js';
import { auditContext, recordRefusals } from '../audit/audit.routes.js';
import type { AuditService } from '../audit/audit.service.js';
import type { Guards } from '../auth/guards.js';
import type { DeliveriesStore } from '../events/deliveries.store.js';

const tags = ['admin'];

const deadLetterSchema = Type.Object({
  consumer: Type.String({
    description: 'The consumer that gave up (ranking, token-expiry, data-platform).',
  }),
  eventId: Type.String(),
  eventType: Type.String(),
  attempts: Type.Integer(),
  lastError: Type.Union([Type.String(), Type.Null()]),
  replays: Type.Integer({ description: 'How often an operator replayed it before.' }),
  deadSince: isoTime('When the last attempt failed.'),
  event: Type.Object(
    {},
    { additionalProperties: true, description: 'The event as it was published.' },
  ),
});

/**
 * Operator endpoints, under /api/v1/admin (src/app.ts): need a JWT with the admin role (the same
 * as `npm run dead-letters`).
 */
export function adminRoutes(
  app: App,
  deps: { deliveries: DeliveriesStore; audit: AuditService; guards: Guards },
): void {
  const { deliveries, audit, guards } = deps;
  recordRefusals(app, audit);

  app.get(
    '/dead-letters',
    {
      config: { rateLimitGroup: 'account' },
      schema: {
        tags,
        summary: 'Events a consumer gave up on',
        description: 'Newest first: the event, the consumer, the attempts and the last error.',
        headers: guards.admin.headers,
        security: guards.admin.security,
        querystring: Type.Object(
          { limit: Type.Integer({ minimum: 1, maximum: 500, default: 50 }) },
          { additionalProperties: false },
        ),
        response: responses(
          {
            status: 200,
            schema: successEnvelope(Type.Array(deadLetterSchema), []),
            description: 'Dead letters.',
          },
          guards.admin.errors,
        ),
      },
    },
    async (request) => {
      await guards.admin.check(request);
      return ok(await deliveries.listDead(request.query.limit));
    },
  );

  app.post(
    '/dead-letters/:consumer/:eventId/replay',
    {
      config: {
        rateLimitGroup: 'account',
        audit: { action: 'dead-letter.replay', targetType: 'dead-letter', targetParam: 'eventId' },
      },
      schema: {
        tags,
        summary: 'Replay a dead letter',
        description:
          'Puts it back in the retry queue with fresh attempts. Idempotent: replaying what is not (or no longer) dead ' +
          'answers 404 and changes nothing; the consumer applies each event once anyway. Recorded in the audit log ' +
          '(action dead-letter.replay), refusals too.',
        headers: guards.admin.headers,
        security: guards.admin.security,
        params: Type.Object({
          consumer: Type.String({ pattern: '^[a-z][a-z-]{0,63}$' }),
          eventId: uuid('Event id.'),
        }),
        response: responses(
          {
            status: 200,
            schema: successEnvelope(Type.Object({ replayed: Type.Literal(true) }), {
              replayed: true,
            }),
            description: 'Queued for another delivery.',
          },
          [...guards.admin.errors, 'DEAD_LETTER_NOT_FOUND'],
        ),
      },
    },
    async (request) => {
      await guards.admin.check(request);
      const { consumer, eventId } = request.params;
      if (!(await deliveries.replay(consumer, eventId.toLowerCase(), auditContext(request)))) {
        throw new AppError('DEAD_LETTER_NOT_FOUND', `No dead letter ${consumer}/${eventId}.`, {
          field: 'eventId',
        });
      }
      return ok({ replayed: true as const }, 'Replaying');
    },
  );
}
