import { Type } from 'typebox';
import type { App } from '../../shared/app-types.js';
import {
  bodyErrors,
  idempotencyKeyHeader,
  ok,
  responses,
  successEnvelope,
} from '../../shared/http.js';
import type { Guards } from '../auth/guards.js';
import type { BalanceService } from './balance.service.js';

const tags = ['balance'];
const balanceSchema = Type.Object({
  balance: Type.Integer({ minimum: 0, description: 'In won.' }),
});

/** The prepaid balance, under /api/v1/balance (src/app.ts). */
export function balanceRoutes(
  app: App,
  deps: { balance: BalanceService; maxChargeAmount: number; guards: Guards },
): void {
  const { balance, guards } = deps;

  app.get(
    '',
    {
      config: { rateLimitGroup: 'account' },
      schema: {
        tags,
        summary: 'Your balance',
        headers: guards.user.headers,
        security: guards.user.security,
        response: responses(
          {
            status: 200,
            schema: successEnvelope(balanceSchema, { balance: 50_000 }),
            description: 'Balance in won (0 for a new user).',
          },
          guards.user.errors,
        ),
      },
    },
    async (request) => ok({ balance: await balance.balance(await guards.user.userId(request)) }),
  );

  app.post(
    '/charge',
    {
      config: { rateLimitGroup: 'account' },
      schema: {
        tags,
        summary: 'Charge your balance',
        description:
          'Adds a positive whole amount; the ledger row is written in the same statement. With an Idempotency-Key ' +
          'the same key returns the first result (200, message Replayed) and never charges twice.',
        security: guards.user.security,
        headers: Type.Object({
          ...guards.user.headers.properties,
          'idempotency-key': Type.Optional(idempotencyKeyHeader),
        }),
        body: Type.Object(
          {
            amount: Type.Integer({
              minimum: 1,
              maximum: deps.maxChargeAmount,
              description: `Won to add, 1 to ${deps.maxChargeAmount}.`,
              examples: [50_000],
            }),
          },
          { additionalProperties: false },
        ),
        response: responses(
          {
            status: 200,
            schema: successEnvelope(balanceSchema, { balance: 100_000 }, 'Charged'),
            description: 'The new balance.',
          },
          [
            ...guards.user.errors,
            'BALANCE_LIMIT_EXCEEDED',
            'IDEMPOTENCY_KEY_REUSED',
            ...bodyErrors,
          ],
        ),
      },
    },
    async (request) => {
      const key = request.headers['idempotency-key'];
      const result = await balance.charge({
        userId: await guards.user.userId(request),
        amount: request.body.amount,
        ...(typeof key === 'string' ? { idempotencyKey: key } : {}),
      });
      return ok(result.value, result.replayed ? 'Replayed' : 'Charged');
    },
  );
}
