import type { FastifyRequest } from 'fastify';
import type { ErrorCode } from '../../shared/errors.js';
import { queueTokenOf } from '../../shared/identity.js';
import type { QueueService } from '../queue/queue.service.js';
import type { TokenRecord } from '../queue/queue.store.js';
import type { Auth } from './auth.js';

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
      errors: [...lookupErrors, 'QUEUE_TOKEN_NOT_ACTIVE', 'QUEUE_TOKEN_EXPIRED'] as ErrorCode[],
    },
    /** Operator endpoints. */
    admin: {
      headers: auth.adminHeaders,
      security: auth.adminSecurity,
      errors: ['AUTH_REQUIRED', 'AUTH_INVALID', 'ADMIN_REQUIRED'] as ErrorCode[],
      check: (request: FastifyRequest) => auth.admin(request),
    },
  };
}

export type Guards = ReturnType<typeof createGuards>;
