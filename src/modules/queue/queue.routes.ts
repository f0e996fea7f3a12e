import type { SSEReplyInterface } from '@fastify/sse';
import type { FastifyReply } from 'fastify';
import { Type } from 'typebox';
import type { App } from '../../shared/app-types.js';
import { bodyErrors, id, ok, responses, successEnvelope } from '../../shared/http.js';
import { queueTokenOf } from '../../shared/identity.js';
import type { Guards } from '../auth/guards.js';
import { liveEventId, placeFigures, type LiveClient, type LivePositions } from './queue.live.js';
import type { QueueService } from './queue.service.js';
import { POW_ERRORS } from './queue.pow.js';
import type { PowAnswer } from './queue.pow.gate.js';
import type { StreamLimits } from './queue.stream-limits.js';
import type { TokenView } from './queue.store.js';
import {
  challengeExample,
  challengeSchema,
  liveStatusExample,
  liveStatusSchema,
  roomViewExample,
  roomViewSchema,
  tokenExample,
  tokenSchema,
  tokenStatusSchema,
} from './queue.schemas.js';

const tags = ['queue'];

const POW_CODES = Object.keys(POW_ERRORS) as (keyof typeof POW_ERRORS)[];

const present = (view: TokenView, seatsLeft: number | null) => {
  const { ahead } = placeFigures(view, seatsLeft);
  // One object literal (no spread): built on every join and poll.
  return {
    token: view.token,
    status: view.status,
    position: view.position,
    expiresAt: view.expiresAt?.toISOString() ?? null,
    concertId: view.roomId === 0 ? null : view.roomId,
    receiptId: view.receiptId ?? null,
    opensAt: view.opensAt?.toISOString() ?? null,
    ahead,
    seatsLeft,
  };
};

/** The hub's view of one SSE reply: framing by @fastify/sse, heartbeats as raw comments. */
function sseClient(sse: SSEReplyInterface, reply: FastifyReply): LiveClient {
  return {
    send(state, id) {
      // Resolves once written (or drained); a connection closed meanwhile just ends the stream.
      sse.send({ id, data: state }).catch(() => sse.close());
    },
    ping() {
      reply.raw.write(': ping\n\n');
    },
    end() {
      sse.close();
    },
    get writable() {
      return sse.isConnected && !reply.raw.writableNeedDrain;
    },
  };
}

const liveStreamExample =
  `id: ${liveEventId({ ...liveStatusExample, status: 'WAITING' })}\n` +
  `data: ${JSON.stringify(liveStatusExample)}\n\n: ping\n\n`;

/** The waiting room's routes, under /api/v1/queue (src/app.ts). */
export function queueRoutes(
  app: App,
  deps: {
    queue: QueueService;
    guards: Guards;
    live: Pick<LivePositions, 'follow'>;
    streamLimits: Pick<StreamLimits, 'take'>;
  },
): void {
  const { queue, guards, live, streamLimits } = deps;
  const liveEnvelope = successEnvelope(liveStatusSchema, liveStatusExample);
  app.post(
    '/token',
    {
      config: { rateLimitGroup: 'queue' },
      // No body (the seed's join) is the house room: validated as an empty object.
      preValidation: (request, _reply, done) => {
        if ((request.body as unknown) === undefined) request.body = {};
        done();
      },
      schema: {
        tags,
        summary: 'Join the waiting room (or get your place back)',
        description:
          'Returns a new token, or your live one with its place unchanged when you already hold one ' +
          '(refreshes and extra tabs keep the place), answered the same way: 201, as in the seed. With free room and ' +
          'an empty line the token is ACTIVE at once. With a body `{"concertId": 12}` it joins that concert\'s ' +
          'own waiting room (docs/rooms.md; one token per room, a buyer may be in several); a room with a scheduled ' +
          'opening answers PRE_QUEUE with a receiptId in its pre-queue window (409 ROOM_NOT_OPEN_YET before it; ' +
          'docs/lottery.md); without one, the house room (every concert without a room of its own). A room may ask ' +
          'for a proof of work (`pow`: 428 POW_REQUIRED without one); in a sold-out room the token is SOLD_OUT, a ' +
          'place on the waiting list (docs/rooms.md).',
        headers: guards.user.headers,
        security: guards.user.security,
        body: Type.Optional(
          Type.Object(
            {
              concertId: Type.Optional(
                id('The concert whose room to join (omit: the house room).'),
              ),
              pow: Type.Optional(
                Type.Object(
                  {
                    challenge: Type.String({ maxLength: 200 }),
                    solution: Type.String({ maxLength: 64 }),
                  },
                  {
                    additionalProperties: false,
                    description:
                      'A solved challenge of the room (GET /rooms/{concertId}/challenge), when the room asks for a proof of work; each is accepted once. Ignored by a room that asks for none.',
                  },
                ),
              ),
            },
            // The documents' example is the seed's join (the house room), so "Try it out"
            // works on any database; a room's concertId is described above.
            { additionalProperties: false, examples: [{}] },
          ),
        ),
        response: responses(
          {
            status: 201,
            schema: successEnvelope(tokenSchema, tokenExample),
            description: 'Your token and place.',
          },
          [
            ...guards.user.errors,
            ...bodyErrors,
            'ROOM_NOT_FOUND',
            'ROOM_CLOSED',
            'POW_REQUIRED',
            ...POW_CODES,
            'ROOM_NOT_OPEN_YET',
          ],
        ),
      },
    },
    async (request, reply) => {
      const body = request.body as { concertId?: number; pow?: PowAnswer } | undefined;
      const view = await queue.join(await guards.user.userId(request), body?.concertId, body?.pow);
      // The house room has no seat figure (null): no wait for one on the seed's join.
      const seatsLeft = view.roomId === 0 ? null : await queue.roomSeatsLeft(view.roomId);
      return reply.status(201).send(ok(present(view, seatsLeft)));
    },
  );

  app.get(
    '/token',
    {
      config: { rateLimitGroup: 'queue' },
      schema: {
        tags,
        summary: 'Your status and exact position',
        description:
          'Polling keeps a WAITING token alive (it expires after the idle lifetime without a poll).',
        headers: guards.token.headers,
        security: guards.token.security,
        response: responses(
          {
            status: 200,
            schema: successEnvelope(tokenStatusSchema, {
              status: 'WAITING',
              position: 12,
              expiresAt: tokenExample.expiresAt,
              concertId: null,
              ahead: 11,
              seatsLeft: null,
            }),
            description: 'Status, position and expiry.',
          },
          guards.token.errors,
        ),
      },
    },
    async (request) => {
      const view = await queue.status(queueTokenOf(request), await guards.token.owner(request));
      const { status, position, expiresAt, concertId, receiptId, opensAt, ahead, seatsLeft } =
        present(view, await queue.roomSeatsLeft(view.roomId));
      return ok({ status, position, expiresAt, concertId, receiptId, opensAt, ahead, seatsLeft });
    },
  );

  app.get(
    '/rooms/:concertId',
    {
      schema: {
        tags,
        summary: "A concert's waiting room, publicly",
        description:
          'Its state, line length, active shoppers, cap, rate limit and measured admission rate, and the ' +
          'seats left (free or held). No authentication. Each instance reads a room at most once per ' +
          'ROOM_VIEW_CACHE_MS (default 250 ms) for every reader, so the numbers may be that much behind. ' +
          'docs/rooms.md.',
        params: Type.Object({ concertId: id('The concert.') }),
        response: responses(
          {
            status: 200,
            schema: successEnvelope(roomViewSchema, roomViewExample),
            description: 'The room as read at most ROOM_VIEW_CACHE_MS ago.',
          },
          ['INVALID_REQUEST', 'ROOM_NOT_FOUND'],
        ),
      },
    },
    async (request) => ok(await queue.room(request.params.concertId)),
  );

  app.get(
    '/rooms/:concertId/challenge',
    {
      config: { rateLimitGroup: 'queue' },
      schema: {
        tags,
        summary: "A proof-of-work challenge for a room's join",
        description:
          "A signed challenge at the room's current difficulty, valid 300 s: find a `solution` (1–64 characters of " +
          '[A-Za-z0-9_-]) such that SHA-256 of `challenge + ":" + solution` starts with `difficulty` zero bits, then ' +
          'join with `{concertId, pow: {challenge, solution}}`. Nothing is stored; each solution joins once. A room ' +
          'without proof of work answers difficulty 0 (any solution does; the join ignores it). docs/rooms.md.',
        params: Type.Object({ concertId: id('The concert.') }),
        response: responses(
          {
            status: 200,
            schema: successEnvelope(challengeSchema, challengeExample),
            description: 'The challenge.',
          },
          ['INVALID_REQUEST', 'ROOM_NOT_FOUND'],
        ),
      },
    },
    async (request) => ok(await queue.challenge(request.params.concertId)),
  );

  app.get(
    '/token/stream',
    {
      config: { rateLimitGroup: 'queue' },
      // Dual: `Accept: text/event-stream` opens the stream, anything else gets one JSON reply.
      // Heartbeats come from the live-positions timer, not one timer per connection.
      sse: { kind: 'dual', heartbeat: false },
      schema: {
        tags,
        summary: 'Live status, position and estimated wait (Server-Sent Events)',
        description:
          'With `Accept: text/event-stream` (what EventSource sends): a stream whose events carry ' +
          '`{status, position, ahead, seatsLeft, expiresAt, estimatedWaitSeconds, concertId}` as JSON `data` — the current state at once, then a ' +
          'new event whenever it changes (the moment the token turns ACTIVE, too) — and ends after EXPIRED. ' +
          "A pre-queue token's stream starts with PRE_QUEUE, its `receiptId` and `opensAt`, then pushes its drawn " +
          'place (WAITING, or ACTIVE) after the opening, and SOLD_OUT if the sale sells out. ' +
          'No polling is needed: an open stream also keeps a WAITING token alive. Quiet streams get a `: ping` ' +
          'comment every 15 s. Each event `id` names its state; a reconnect (EventSource reconnects by itself) ' +
          'gets the current state at once unless its `Last-Event-ID` shows it already has it. ' +
          'Without that Accept header: the same fields once, as JSON. A user may hold a few streams open at ' +
          'once (3 by default, e.g. tabs), and one client address a bounded number: one more is 429 TOO_MANY_STREAMS.',
        headers: guards.token.headers,
        security: guards.token.security,
        response: {
          ...responses({ status: 200, schema: liveEnvelope, description: 'Live state.' }, [
            ...guards.token.errors,
            'TOO_MANY_STREAMS',
          ]),
          200: {
            description:
              'text/event-stream: the live stream. application/json (no `Accept: text/event-stream`): the state now.',
            content: {
              'text/event-stream': {
                schema: Type.String({
                  description:
                    'Events `id: <state id>` + `data: {status, position, ahead, seatsLeft, expiresAt, estimatedWaitSeconds, concertId}`; comments `: ping`.',
                }),
                example: liveStreamExample,
              },
              'application/json': {
                schema: liveEnvelope,
                example: { code: 'SUCCESS', message: 'OK', data: liveStatusExample },
              },
            },
          },
        },
      },
    },
    async (request, reply) => {
      const token = queueTokenOf(request);
      const { state, userId } = await queue.live(token, await guards.token.owner(request));
      // Typed as always present; @fastify/sse attaches it only when the client asked for a stream.
      const sse = (reply as { sse?: SSEReplyInterface }).sse;
      if (!sse) return ok(state);
      // Taken before the first byte (a refusal is an ordinary JSON 429) and given back however
      // the stream ends: the client leaves, EXPIRED, shutdown, or an error below.
      sse.onClose(streamLimits.take(userId, request.ip));
      const id = liveEventId(state);
      // A reconnect whose Last-Event-ID is this very state already shows it.
      if (sse.lastEventId === id) {
        sse.sendHeaders();
        reply.raw.write(': resumed\n\n');
      } else {
        await sse.send({ id, data: state });
      }
      if (state.status === 'EXPIRED' || !sse.isConnected) {
        sse.close();
        return;
      }
      sse.keepAlive();
      sse.onClose(live.follow(token, sseClient(sse, reply), id));
    },
  );

  app.delete(
    '/token',
    {
      config: { rateLimitGroup: 'queue' },
      schema: {
        tags,
        summary: 'Leave the line',
        description:
          'Expires the token and releases your seat hold; your slot goes to the next in line at once.',
        headers: guards.token.headers,
        security: guards.token.security,
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
