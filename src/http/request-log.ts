import { LogController, type FastifyReply, type FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import type { App } from '../shared/app-types.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** The user the request acted for, once identity or a queue token named one (for the log). */
    userId: number | null;
    /** The envelope code of an error reply (for the log). */
    replyCode: string | null;
  }
}

/** Probes and Swagger UI's files: every few seconds or many per page, not worth an info line. */
const isQuiet = (route: string) =>
  route.startsWith('/health/') || route === '/docs' || route.startsWith('/docs/');

/** Routes whose replies are the `{code, message, data}` envelope. */
const isEnvelope = (route: string) => route.startsWith('/api/') || route.startsWith('/health/');

const LEVELS: Record<string, number> = { trace: 10, debug: 20, info: 30 };
/** Whether a logger at `current` writes `level` lines (the line is not even built otherwise). */
const enabled = (current: string, level: 'debug' | 'info') =>
  (LEVELS[current] ?? Infinity) <= (LEVELS[level] ?? 0);

/**
 * Fastify's request lines, one per request when it completed instead of two (incoming and
 * completed): the route pattern, status, the envelope's code and the user when known, and the
 * time taken. Probes and docs assets at debug, the rest at info; a reply that failed to be sent
 * at error.
 */
class RequestLog extends LogController {
  override incomingRequest(): void {
    // The completed line says it all.
  }

  override requestCompleted(
    error: Error | null | undefined,
    request: FastifyRequest,
    reply: FastifyReply,
  ): void {
    const route = request.routeOptions.url;
    const level = error ? 'error' : route !== undefined && isQuiet(route) ? 'debug' : 'info';
    if (level !== 'error' && !enabled(request.log.level, level)) return;
    const status = reply.statusCode;
    const code =
      request.replyCode ??
      (route !== undefined && isEnvelope(route) && status < 400 ? 'SUCCESS' : undefined);
    request.log[level](
      {
        method: request.method,
        // Unmatched requests have no route: their path (never the query) stands in.
        ...(route === undefined ? { path: request.url.split('?')[0] } : { route }),
        status,
        ...(code === undefined ? {} : { code }),
        ...(request.userId === null ? {} : { user: request.userId }),
        ms: Math.round(reply.elapsedTime * 10) / 10,
        ...(error ? { err: error } : {}),
      },
      error ? 'request errored' : 'request completed',
    );
  }
}

export const requestLog = (): LogController => new RequestLog();

/** The request fields the request log reads, set by the error handlers, auth and guards. */
export const requestLogFields = fp((app: App) => {
  app.decorateRequest('userId', null);
  app.decorateRequest('replyCode', null);
});
