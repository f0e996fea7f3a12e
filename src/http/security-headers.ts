import type { IncomingMessage, ServerResponse } from 'node:http';
import fp from 'fastify-plugin';
import helmet from 'helmet';
import type { App } from '../shared/app-types.js';

type Middleware = (
  request: IncomingMessage,
  response: ServerResponse,
  next: (error?: unknown) => void,
) => void;

/** The headers a middleware that only sets static headers (as helmet does here) sets. */
function headersSetBy(middleware: Middleware): Record<string, string> {
  const headers = new Map<string, string>();
  const response = {
    setHeader: (name: string, value: string) => headers.set(name.toLowerCase(), value),
    removeHeader: (name: string) => headers.delete(name.toLowerCase()),
  };
  // The request is never read: no directive is a per-request function.
  middleware(undefined as never, response as unknown as ServerResponse, (error) => {
    if (error !== undefined) throw new Error('security headers', { cause: error });
  });
  return Object.fromEntries(headers);
}

/** Helmet's headers for a reply sent over TLS (`tls`) or over plain HTTP. */
const helmetHeaders = (tls: boolean) =>
  headersSetBy(
    helmet({
      contentSecurityPolicy: {
        directives: {
          defaultSrc: ["'self'"],
          // Swagger UI at /docs shows the validator's badge and inline images.
          imgSrc: ["'self'", 'data:', 'validator.swagger.io'],
          scriptSrc: ["'self'"],
          styleSrc: ["'self'", "'unsafe-inline'"],
          // Over plain HTTP it would send the browser to https:// for every script and style of
          // /docs, which nothing serves: a blank page on any address but loopback (which
          // browsers never upgrade).
          upgradeInsecureRequests: tls ? [] : null,
        },
      },
      // Browsers ignore HSTS received over plain HTTP (RFC 6797 §8.1): send it only behind TLS.
      strictTransportSecurity: tls,
    }),
  );

/**
 * Security headers on every reply, the API's and /docs' alike. Helmet decides them once at start
 * for each of the two transports (the options are static: no per-request nonce) and each reply
 * copies one set: @fastify/helmet runs helmet's middleware again on every request, ~8% of a queue
 * join's CPU, and even a middleware built once sets a dozen headers one by one
 * (docs/decisions/0012). `request.protocol` is https on a TLS socket, or behind a trusted proxy
 * that says so (X-Forwarded-Proto).
 */
export const securityHeaders = fp((app: App) => {
  const overTls = helmetHeaders(true);
  const overPlainHttp = helmetHeaders(false);
  app.addHook('onRequest', (request, reply, done) => {
    reply.headers(request.protocol === 'https' ? overTls : overPlainHttp);
    done();
  });
});
