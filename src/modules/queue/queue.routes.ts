import { Type } from 'typebox';
import type { App } from '../../shared/app-types.js';
import { clientIdOf, optionalClientIdOf, queueTokenOf } from '../../shared/identity.js';
import {
  clientIdHeader,
  ok,
  queueTokenHeader,
  responses,
  successEnvelope,
} from '../../shared/http.js';
import type { QueueService } from './queue.service.js';
import type { TokenView } from './queue.store.js';
import { tokenExample, tokenSchema, tokenStatusSchema } from './queue.schemas.js';

const tags = ['queue'];

const present = (view: TokenView) => ({
  ...view,
  expiresAt: view.expiresAt?.toISOString() ?? null,
});

export function registerQueueRoutes(app: App, queue: QueueService): void {
  app.post(
    '/api/v1/queue/token',
    {
      schema: {
        tags,
        summary: 'Join the waiting room (or get your place back)',
        description:
          'Returns a new token, or your live one with its place unchanged when you already hold one ' +
          '(refreshes and extra tabs keep the place). With free room and an empty line the token is ACTIVE at once.',
        headers: Type.Object({ 'client-id': clientIdHeader }),
        response: responses(
          {
            status: 201,
            schema: successEnvelope(tokenSchema, tokenExample),
            description: 'Your token and place.',
          },
          ['CLIENT_ID_REQUIRED', 'CLIENT_ID_INVALID'],
        ),
      },
    },
    async (request, reply) => {
      const view = await queue.enter(clientIdOf(request));
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
        headers: Type.Object({
          'queue-token': queueTokenHeader,
          'client-id': Type.Optional(clientIdHeader),
        }),
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
          [
            'QUEUE_TOKEN_REQUIRED',
            'QUEUE_TOKEN_INVALID',
            'QUEUE_TOKEN_USER_MISMATCH',
            'CLIENT_ID_INVALID',
          ],
        ),
      },
    },
    async (request) => {
      const token = queueTokenOf(request);
      const clientId = optionalClientIdOf(request);
      if (clientId !== undefined) await queue.authenticate(token, clientId);
      const { status, position, expiresAt } = present(await queue.status(token));
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
        headers: Type.Object({
          'queue-token': queueTokenHeader,
          'client-id': Type.Optional(clientIdHeader),
        }),
        response: responses(
          {
            status: 200,
            schema: successEnvelope(Type.Object({ status: Type.Literal('EXPIRED') }), {
              status: 'EXPIRED',
            }),
            description: 'The token is expired (also when it already was).',
          },
          [
            'QUEUE_TOKEN_REQUIRED',
            'QUEUE_TOKEN_INVALID',
            'QUEUE_TOKEN_USER_MISMATCH',
            'CLIENT_ID_INVALID',
          ],
        ),
      },
    },
    async (request) => {
      const record = await queue.authenticate(queueTokenOf(request), optionalClientIdOf(request));
      await queue.leave(record);
      return ok({ status: 'EXPIRED' as const }, 'You left the queue.');
    },
  );
}
