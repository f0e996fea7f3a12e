import type { FastifyRequest } from 'fastify';
import { AppError } from './errors.js';
import { MAX_ID } from './ids.js';

/**
 * The user id from the Client-Id header (the seed's identity). The route schema has already
 * checked the digits; this adds the upper bound that a pattern cannot express.
 */
export function clientIdOf(request: FastifyRequest): number {
  const userId = optionalClientIdOf(request);
  if (userId === undefined)
    throw new AppError('CLIENT_ID_REQUIRED', 'Send your user id in the Client-Id header.', {
      field: 'Client-Id',
    });
  return userId;
}

export function optionalClientIdOf(request: FastifyRequest): number | undefined {
  const raw = request.headers['client-id'];
  if (raw === undefined) return undefined;
  const userId =
    typeof raw === 'string' && /^[1-9][0-9]{0,15}$/.test(raw) ? Number(raw) : Number.NaN;
  if (!(userId <= MAX_ID)) {
    throw new AppError('CLIENT_ID_INVALID', 'Client-Id must be a positive integer user id.', {
      field: 'Client-Id',
    });
  }
  return userId;
}

export function queueTokenOf(request: FastifyRequest): string {
  const token = request.headers['queue-token'];
  if (token === undefined)
    throw new AppError('QUEUE_TOKEN_REQUIRED', 'Send your queue token in the Queue-Token header.', {
      field: 'Queue-Token',
    });
  if (typeof token !== 'string')
    throw new AppError('QUEUE_TOKEN_INVALID', 'Send one Queue-Token header.', {
      field: 'Queue-Token',
    });
  return token;
}
