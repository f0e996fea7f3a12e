import { Type } from 'typebox';
import type { App } from '../../shared/app-types.js';
import { AppError } from '../../shared/errors.js';
import { id, ok, responses, successEnvelope } from '../../shared/http.js';
import type { OpeningQueueService } from '../../container.rooms.js';
import { drawPageExample, drawPageSchema } from './queue.schemas.js';

/** The lottery's public draw, under /api/v1/queue (src/app.ts; docs/lottery.md). */
export function openingRoutes(app: App, deps: { queue: Pick<OpeningQueueService, 'draw'> }): void {
  app.get(
    '/rooms/:concertId/draw',
    {
      schema: {
        tags: ['queue'],
        summary: "A room's opening draw: the seed and every receipt id in place order (paged)",
        description:
          'Public, no authentication. Page N (from 1) lists places (N−1)·pageSize+1 … N·pageSize; a page past the end ' +
          'lists none. Before the opening `seed` is null, `total` 0 and `receipts` empty (the commitment is already ' +
          'published). Check it with scripts/verify-draw.ts or by hand: docs/lottery.md.',
        params: Type.Object({ concertId: id('The concert of the room.') }),
        querystring: Type.Object(
          { page: Type.Optional(Type.Integer({ minimum: 1, maximum: 1_000_000, default: 1 })) },
          { additionalProperties: false },
        ),
        response: responses(
          {
            status: 200,
            schema: successEnvelope(drawPageSchema, drawPageExample),
            description: 'One page of the draw.',
          },
          ['INVALID_REQUEST', 'ROOM_NOT_FOUND'],
        ),
      },
    },
    async (request) => {
      const page = await deps.queue.draw(request.params.concertId, request.query.page ?? 1);
      if (!page)
        throw new AppError('ROOM_NOT_FOUND', 'The concert has no waiting room of its own.', {
          field: 'concertId',
        });
      return ok(page);
    },
  );
}
