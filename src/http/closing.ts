import fp from 'fastify-plugin';
import type { App } from '../shared/app-types.js';
import { AppError } from '../shared/errors.js';

/**
 * Graceful shutdown as the HTTP side sees it: once `begin` is called, new requests get 503 (in
 * the envelope, instead of Fastify's plain one) and every reply ends its keep-alive connection,
 * so connections busy when the shutdown began do not linger idle until the keep-alive timeout
 * and hold up the exit.
 */
export function closingGate() {
  let closing = false;
  const plugin = fp((app: App) => {
    app.addHook('onRequest', (_request, _reply, done) => {
      if (!closing) {
        done();
        return;
      }
      done(
        new AppError(
          'SERVICE_UNAVAILABLE',
          'The server is shutting down; retry on another instance.',
        ),
      );
    });
    // A callback hook, not an async one: this runs on every reply (no promise per request).
    app.addHook('onSend', (_request, reply, payload, done) => {
      if (closing) reply.header('connection', 'close');
      done(null, payload);
    });
  });
  return {
    plugin,
    isClosing: () => closing,
    begin: () => {
      closing = true;
    },
  };
}
