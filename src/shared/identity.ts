import type { FastifyRequest } from 'fastify';
import { AppError } from './errors.js';

/** The Queue-Token header (its format was checked by the route schema). */
export function queueTokenOf(request: FastifyRequest): string {
  const token = request.headers['queue-token'];
  if (token === undefined) {
    throw new AppError('QUEUE_TOKEN_REQUIRED', 'Send your queue token in the Queue-Token header.', {
      field: 'Queue-Token',
    });
  }
  if (typeof token !== 'string')
    throw new AppError('QUEUE_TOKEN_INVALID', 'Send one Queue-Token header.', {
      field: 'Queue-Token',
    });
  return token;
}
