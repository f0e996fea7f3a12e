import fastifySSE from '@fastify/sse';
import fp from 'fastify-plugin';
import type { App } from '../shared/app-types.js';

/**
 * Server-Sent Events for the routes that opt in with `sse`. Heartbeats come from the live-positions
 * timer instead of one timer per connection, and open streams are ended when the server closes:
 * they would hold app.close() (it waits for connections) until the grace period ends.
 */
export const liveStreams = fp(async (app: App, { live }: { live: { closeAll(): void } }) => {
  // (`.default`: the package's types describe an ES module; at run time fastify-plugin's wrapper
  // is both the CommonJS export and its own `default`.)
  await app.register(fastifySSE.default, { heartbeatInterval: 0 });
  app.addHook('preClose', (done) => {
    live.closeAll();
    done();
  });
});
