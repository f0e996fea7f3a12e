import { Type } from 'typebox';
import type { App } from '../../shared/app-types.js';
import { ok, responses, successEnvelope } from '../../shared/http.js';
import { queueTokenOf } from '../../shared/identity.js';
import type { Guards } from '../auth/guards.js';
import type { QueueService } from './queue.service.js';
import type { TokenView } from './queue.store.js';
import { tokenExample, tokenSchema, tokenStatusSchema } from './queue.schemas.js';

const tags = ['queue'];

const present = (view: TokenView) => ({
  token: view.token,
  status: view.status,
  position: view.position,
  expiresAt: view.expiresAt?.toISOString() ?? null,
});

export function registerQueueRoutes(app: App, deps: { queue: QueueService; guards: Guards }): void {
  const { queue, guards } = deps;
  app.post(
    '/api/v1/queue/token',
    {
      schema: {
        tags,
        summary: 'Join the waiting room (or get your place back)',
        description:
          'Returns a new token, or your live one with its place unchanged when you already hold one ' +
          '(refreshes and extra tabs keep the place). With free room and an empty line the token is ACTIVE at once.',
        headers: guards.user.headers,
        response: responses(
          {
            status: 201,
            schema: successEnvelope(tokenSchema, tokenExample),
            description: 'Your token and place.',
          },
          guards.user.errors,
        ),
      },
    },
    async (request, reply) => {
      const view = await queue.enter(await guards.user.userId(request));
      return reply.status(201).send(ok(present(view)));
    },
  );

  app.get(
    '/api/v1/queue/token',
    {
      schema: {
        tags,
        summary: 'Your status and exact position',
        description:
          'Polling keeps a WAITING token alive (it expires after the idle lifetime without a poll).',
        headers: guards.token.headers,
        response: responses(
          {
            status: 200,
            schema: successEnvelope(tokenStatusSchema, {
              status: 'WAITING',
              position: 12,
              expiresAt: tokenExample.expiresAt,
            }),
            description: 'Status, position and expiry.',
          },
          guards.token.errors,
        ),
      },
    },
    async (request) => {
      const view = await queue.status(queueTokenOf(request), await guards.token.owner(request));
      const { status, position, expiresAt } = present(view);
      return ok({ status, position, expiresAt });
    },
  );

  app.delete(
    '/api/v1/queue/token',
    {
      schema: {
        tags,
        summary: 'Leave the line',
        description:
          'Expires the token and releases your seat hold; your slot goes to the next in line at once.',
        headers: guards.token.headers,
        response: responses(
          {
            status: 200,
            schema: successEnvelope(Type.Object({ status: Type.Literal('EXPIRED') }), {
              status: 'EXPIRED',
            }),
            description: 'The token is expired (also when it already was).',
          },
          guards.token.errors,
        ),
      },
    },
    async (request) => {
      const record = await guards.token.record(request);
      await queue.leave(record);
      return ok({ status: 'EXPIRED' as const }, 'You left the queue.');
    },
  );
}
