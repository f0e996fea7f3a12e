import type { FastifyHttpOptions } from 'fastify';
import type { Server } from 'node:http';
import type { Logger } from 'pino';
import type { Config, TrustProxy } from '../config.js';
import { hangUp, malformedUrl } from './error-replies.js';
import { requestIdOf } from './request-id.js';
import { requestLog } from './request-log.js';

/**
 * Fastify's trustProxy for TRUST_PROXY. Fastify 5.12 treats a bare hop count as "trust nobody"
 * (it cannot tell a proxy from a client that connects directly and writes the header itself),
 * so a count becomes the function "the nearest `hops` senders" here: right only when clients
 * reach the instance through the proxies alone, which the start-up warning says.
 */
function trustProxyOf(
  trust: TrustProxy,
): boolean | string[] | ((address: string, hop: number) => boolean) {
  if (typeof trust !== 'number') return trust;
  return (_address, hop) => hop < trust;
}

/** The server's options: what the instance accepts from a connection before any route runs. */
export function serverOptions(
  config: Pick<
    Config,
    | 'BODY_LIMIT_BYTES'
    | 'TRUST_PROXY'
    | 'REQUEST_TIMEOUT_MS'
    | 'KEEP_ALIVE_TIMEOUT_MS'
    | 'HEADERS_TIMEOUT_MS'
  >,
  logger: Logger,
): FastifyHttpOptions<Server> {
  return {
    loggerInstance: logger,
    // One line per request, when it completes (src/http/request-log.ts).
    logController: requestLog(),
    bodyLimit: config.BODY_LIMIT_BYTES,
    // request.ip (rate limits, logs), request.protocol and request.host from X-Forwarded-* as far
    // as TRUST_PROXY trusts the hops; off, a client's own X-Forwarded-For is ignored.
    trustProxy: trustProxyOf(config.TRUST_PROXY),
    genReqId: requestIdOf,
    // Slow clients must not hold connections (a few hundred trickling bodies exhausted an
    // instance's descriptors). Node measures requestTimeout from a request's first byte until it
    // has been received in full, so replies of any length, live streams included, are not cut;
    // headersTimeout also covers a new connection that sends nothing. Node checks both on a
    // timer, every second here (or a fifth of the header timeout, if shorter), instead of its
    // default 30 s.
    requestTimeout: config.REQUEST_TIMEOUT_MS,
    keepAliveTimeout: config.KEEP_ALIVE_TIMEOUT_MS,
    http: {
      requestTimeout: config.REQUEST_TIMEOUT_MS,
      headersTimeout: config.HEADERS_TIMEOUT_MS,
      connectionsCheckingInterval: Math.min(1_000, Math.ceil(config.HEADERS_TIMEOUT_MS / 5)),
    },
    // Our own 503 (in the envelope, src/http/closing.ts) replaces Fastify's plain one.
    return503OnClosing: false,
    forceCloseConnections: 'idle',
    frameworkErrors: malformedUrl,
    clientErrorHandler: (error, socket) => hangUp(error, socket, logger),
  };
}
