import type { FastifyRequest } from 'fastify';
import type { ErrorCode } from '../../shared/errors.js';
import { queueTokenOf } from '../../shared/identity.js';
import type { QueueService } from '../queue/queue.service.js';
import type { TokenRecord } from '../queue/queue.store.js';
import type { Auth, Operator } from './auth.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** The operator an operator endpoint's guard let in (the audit log's actor). */
    operator?: Operator;
  }
}

/**
 * What routes put in front of their handler, with the headers and error codes that go with it
 * (so the OpenAPI document lists exactly what each route can answer).
 */
export function createGuards(auth: Auth, queue: Pick<QueueService, 'authenticate'>) {
  const lookupErrors: ErrorCode[] = [
    'QUEUE_TOKEN_REQUIRED',
    'QUEUE_TOKEN_INVALID',
    'QUEUE_TOKEN_USER_MISMATCH',
    ...auth.tokenErrors,
  ];
  return {
    /** Routes acting for a user (Client-Id or JWT). */
    user: {
      headers: auth.userHeaders,
      security: auth.userSecurity,
      errors: [...auth.userErrors] as ErrorCode[],
      userId: async (request: FastifyRequest): Promise<number> => (await auth.user(request)).userId,
    },
    /** Routes that read a queue token of the caller's (its status, leaving the line). */
    token: {
      headers: auth.tokenHeaders,
      security: auth.tokenSecurity,
      errors: lookupErrors,
      record: async (request: FastifyRequest): Promise<TokenRecord> => {
        const record = await queue.authenticate(
          queueTokenOf(request),
          await auth.tokenOwner(request),
        );
        request.userId = record.userId;
        return record;
      },
      /** The user the token must belong to (undefined: the token alone names the user). */
      owner: (request: FastifyRequest): Promise<number | undefined> => auth.tokenOwner(request),
    },
    /** Routes behind the queue: the same lookup, and the token must be ACTIVE to act. */
    queue: {
      headers: auth.tokenHeaders,
      security: auth.tokenSecurity,
      errors: [
        ...lookupErrors,
        'QUEUE_TOKEN_NOT_ACTIVE',
        'QUEUE_TOKEN_EXPIRED',
        'QUEUE_TOKEN_WRONG_ROOM',
      ] as ErrorCode[],
    },
    /**
     * Operator endpoints: an admin JWT (AUTH_MODE=jwt) or the operator key (client-id). As a
     * route's preValidation hook it runs before the body is validated, so a caller without the
     * key learns nothing from the validation errors.
     */
    admin: {
      headers: auth.adminHeaders,
      security: auth.adminSecurity,
      errors: [...auth.operatorErrors] as ErrorCode[],
      check: async (request: FastifyRequest): Promise<Operator> =>
        (request.operator ??= await auth.operator(request)),
    },
  };
}

export type Guards = ReturnType<typeof createGuards>;
