import { randomBytes, randomUUID } from 'node:crypto';
import { beforeAll, expect, it } from 'vitest';
import { mintToken } from '../../src/modules/auth/mint.js';
import { describeWithPostgres } from '../support/db.js';
import { createConcert, setBalance, type ConcertFixture } from '../support/fixtures.js';
import { useTestServer } from '../support/suite.js';

const SECRET = 'no-bypass-test-secret-32-characters-long';

/**
 * Every operation of the generated OpenAPI document is classified here. Anything under /api/
 * that is not listed as public, user, token-lookup or admin is treated as BEHIND THE QUEUE and
 * must refuse every token that is not the caller's own ACTIVE one — so a route added without
 * protection fails this test by default.
 */
const PUBLIC = new Set([
  'GET /api/v1/reservations/concerts/popular',
  // The buyers' concert list, read before joining any line (decision 0064).
  'GET /api/v1/queue/rooms',
  'GET /api/v1/queue/rooms/{concertId}',
  'GET /api/v1/queue/rooms/{concertId}/challenge',
  'GET /api/v1/queue/rooms/{concertId}/draw',
]);
const USER = new Set([
  'POST /api/v1/queue/token',
  'GET /api/v1/balance',
  'POST /api/v1/balance/charge',
  'GET /api/v1/reservations',
  'POST /api/v1/reservations/{reservationId}/cancel',
]);
const TOKEN_LOOKUP = new Set([
  'GET /api/v1/queue/token',
  'GET /api/v1/queue/token/stream',
  'DELETE /api/v1/queue/token',
]);
const isAdmin = (operation: string) => operation.includes(' /api/v1/admin/');

for (const mode of ['client-id', 'jwt'] as const) {
  describeWithPostgres(
    `no route behind the queue can be reached without the caller's ACTIVE token (AUTH_MODE=${mode})`,
    () => {
      const { db, server } = useTestServer({
        MAX_ACTIVE: '3',
        AUTH_MODE: mode,
        JWT_SECRET: SECRET,
      });
      let concert: ConcertFixture;
      const tokens: Record<'victim' | 'waiting' | 'expired' | 'attacker', string> = {
        victim: '',
        waiting: '',
        expired: '',
        attacker: '',
      };
      const users = { victim: 1, waiting: 2, expired: 3, attacker: 4 };

      /** How user `userId` proves who they are in this mode. */
      const identity = async (userId: number): Promise<Record<string, string>> =>
        mode === 'jwt'
          ? {
              authorization: `Bearer ${await mintToken({ JWT_ALGORITHM: 'HS256', JWT_SECRET: SECRET, JWT_ISSUER: '', JWT_AUDIENCE: '' }, { userId })}`,
            }
          : { 'client-id': String(userId) };

      const join = async (userId: number) =>
        (
          await server.client.call<{ token: string }>('POST', '/api/v1/queue/token', {
            headers: await identity(userId),
          })
        ).data.token;

      beforeAll(async () => {
        concert = await createConcert(db.pool, { seats: 5, price: 1_000 });
        tokens.expired = await join(users.expired);
        await server.client.call('DELETE', '/api/v1/queue/token', {
          headers: { 'queue-token': tokens.expired, ...(await identity(users.expired)) },
        });
        tokens.victim = await join(users.victim);
        tokens.attacker = await join(users.attacker);
        await join(99); // fills the last slot
        tokens.waiting = await join(users.waiting);
        await setBalance(db.pool, users.victim, 10_000);
      });

      /** A well-formed request for the operation (only the credentials vary). */
      const requestFor = (operation: string) => {
        const [method, template] = operation.split(' ') as [string, string];
        const path = template
          .replace('{concertId}', String(concert.concertId))
          .replace('{reservationId}', '1')
          .replace('{sectionKey}', 'stalls')
          .replace('{consumer}', 'ranking')
          .replace('{eventId}', randomUUID());
        const body =
          method !== 'POST'
            ? undefined
            : template.endsWith('/hold')
              ? {
                  seatHoldUuid: randomUUID(),
                  concertId: concert.concertId,
                  seatId: concert.seatIds[0],
                }
              : template === '/api/v1/reservations'
                ? { reservationUuid: randomUUID(), seatId: concert.seatIds[1] }
                : template === '/api/v1/balance/charge'
                  ? { amount: 100 }
                  : undefined;
        return { method, path, body };
      };

      const tokenCodes = new Set([
        'QUEUE_TOKEN_REQUIRED',
        'QUEUE_TOKEN_INVALID',
        'QUEUE_TOKEN_NOT_ACTIVE',
        'QUEUE_TOKEN_EXPIRED',
        'QUEUE_TOKEN_USER_MISMATCH',
      ]);
      const identityCodes = new Set([
        'AUTH_REQUIRED',
        'AUTH_INVALID',
        'CLIENT_ID_REQUIRED',
        'CLIENT_ID_INVALID',
        'CLIENT_ID_MISMATCH',
        'ADMIN_REQUIRED',
      ]);

      it('walks every operation of /openapi.json and proves its protection', async () => {
        const document = (await (await fetch(`${server.url}/openapi.json`)).json()) as {
          paths: Record<string, Record<string, unknown>>;
        };
        const operations = Object.entries(document.paths).flatMap(([path, methods]) =>
          Object.keys(methods).map((method) => `${method.toUpperCase()} ${path}`),
        );
        const behindQueue = operations.filter(
          (operation) =>
            operation.includes(' /api/') &&
            !PUBLIC.has(operation) &&
            !USER.has(operation) &&
            !TOKEN_LOOKUP.has(operation) &&
            !isAdmin(operation),
        );
        expect(behindQueue.length).toBeGreaterThanOrEqual(5);

        for (const operation of behindQueue) {
          const { method, path, body } = requestFor(operation);
          const send = (headers: Record<string, string>) =>
            server.client.call(method, path, { headers, body });
          const attempts: [string, Record<string, string>, number][] = [
            ['no token', await identity(users.victim), 401],
            [
              'malformed token',
              { 'queue-token': 'not-a-token', ...(await identity(users.victim)) },
              401,
            ],
            [
              'forged token',
              {
                'queue-token': randomBytes(24).toString('base64url'),
                ...(await identity(users.victim)),
              },
              401,
            ],
            [
              'WAITING token',
              { 'queue-token': tokens.waiting, ...(await identity(users.waiting)) },
              403,
            ],
            [
              'EXPIRED token',
              { 'queue-token': tokens.expired, ...(await identity(users.expired)) },
              403,
            ],
            [
              "another user's token",
              { 'queue-token': tokens.victim, ...(await identity(users.attacker)) },
              403,
            ],
          ];
          if (mode === 'jwt')
            attempts.push([
              'token without proof of identity',
              { 'queue-token': tokens.victim },
              401,
            ]);
          for (const [name, headers, status] of attempts) {
            const reply = await send(headers);
            expect(reply.status, `${operation} with ${name}`).toBe(status);
            expect(
              tokenCodes.has(reply.code) || identityCodes.has(reply.code),
              `${operation} with ${name}: ${reply.code}`,
            ).toBe(true);
          }
          // The same request with the caller's own ACTIVE token passes the guard (whatever the
          // business answer), so the refusals above came from the token, not a malformed request.
          const own = await send({
            'queue-token': tokens.attacker,
            ...(await identity(users.attacker)),
          });
          expect(
            tokenCodes.has(own.code) || identityCodes.has(own.code),
            `${operation} with its own token: ${own.code}`,
          ).toBe(false);
        }

        // The other classes are protected in their own way.
        for (const operation of operations.filter((op) => USER.has(op))) {
          const { method, path, body } = requestFor(operation);
          const reply = await server.client.call(method, path, { body });
          expect(reply.status, operation).toBe(401);
        }
        for (const operation of operations.filter((op) => TOKEN_LOOKUP.has(op))) {
          const { method, path } = requestFor(operation);
          const stranger = await server.client.call(method, path, {
            headers: { 'queue-token': tokens.victim, ...(await identity(users.attacker)) },
          });
          expect([stranger.status, stranger.code], operation).toEqual([
            403,
            'QUEUE_TOKEN_USER_MISMATCH',
          ]);
          const forged = await server.client.call(method, path, {
            headers: {
              'queue-token': randomBytes(24).toString('base64url'),
              ...(await identity(users.attacker)),
            },
          });
          expect(forged.status, operation).toBe(401);
        }
        for (const operation of operations.filter(isAdmin)) {
          const { method, path } = requestFor(operation);
          const reply = await server.client.call(method, path, {
            headers: await identity(users.attacker),
          });
          expect([401, 403], operation).toContain(reply.status);
        }
        expect(
          (await server.client.call('GET', '/api/v1/reservations/concerts/popular')).status,
        ).toBe(200);
      });
    },
  );
}
