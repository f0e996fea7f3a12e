import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import type { Duplex } from 'node:stream';
import type { Logger } from 'pino';
import type { App } from '../shared/app-types.js';
import { toAppError } from './error-mapping.js';

/**
 * Every error a route raises, and every unknown route, answered in the envelope with the code
 * of the catalogue (src/shared/errors.ts). Unknown errors are logged with the request id.
 */
export const errorReplies = fp((app: App) => {
  app.setErrorHandler((error, request, reply) => {
    const appError = toAppError(error);
    request.replyCode = appError.code;
    if (appError.code === 'INTERNAL_ERROR') {
      request.log.error({ err: error }, 'request failed');
    } else if (appError.status >= 500) {
      request.log.warn(
        { code: appError.code, reason: error instanceof Error ? error.message : String(error) },
        'request refused',
      );
    }
    return reply
      .status(appError.status)
      .send({ code: appError.code, message: appError.message, data: appError.details ?? null });
  });

  app.setNotFoundHandler((request, reply) => {
    request.replyCode = 'NOT_FOUND';
    return reply.status(404).send({
      code: 'NOT_FOUND',
      message: `No route ${request.method} ${request.url.split('?')[0] ?? ''}.`,
      data: null,
    });
  });
});

/**
 * Fastify's `frameworkErrors`: errors it raises before routing (bad percent-encoding, over-long
 * parameters) get the envelope and a request id like every other reply.
 */
export function malformedUrl(error: FastifyError, request: FastifyRequest, reply: FastifyReply) {
  reply.header('x-request-id', request.id);
  request.replyCode = 'INVALID_REQUEST';
  void reply.status(400).send({
    code: 'INVALID_REQUEST',
    message: `The URL is malformed: ${error.message}`,
    data: { field: 'url' },
  });
}

/**
 * Fastify's `clientErrorHandler`: bytes that are not HTTP at all, or a request not received
 * within its time (ERR_HTTP_REQUEST_TIMEOUT), answered in the envelope; then the connection is
 * closed for good: ending only our side would leave it half open for a client that keeps sending.
 * No answer when a reply has begun on it (it would corrupt that reply).
 */
export function hangUp(error: NodeJS.ErrnoException, socket: Duplex, logger: Logger): void {
  const timedOut = error.code === 'ERR_HTTP_REQUEST_TIMEOUT';
  if (timedOut) logger.debug('client too slow: request not received in time');
  const replying =
    (socket as Duplex & { _httpMessage?: { headersSent?: boolean } })._httpMessage?.headersSent ===
    true;
  if (!socket.writable || replying) {
    socket.destroy();
    return;
  }
  const [status, body] = timedOut
    ? [
        '408 Request Timeout',
        {
          code: 'REQUEST_TIMEOUT',
          message: 'The request was not received in time.',
          data: null,
        },
      ]
    : [
        '400 Bad Request',
        { code: 'INVALID_REQUEST', message: 'Malformed HTTP request.', data: null },
      ];
  const text = JSON.stringify(body);
  socket.end(
    `HTTP/1.1 ${status}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(text)}\r\nConnection: close\r\n\r\n${text}`,
  );
  // Closed once the answer is out, or after a second for a client that does not read it.
  const destroy = () => socket.destroy();
  socket.once('finish', destroy);
  setTimeout(destroy, 1_000).unref();
}
