import { createHash, timingSafeEqual } from 'node:crypto';
import fp from 'fastify-plugin';
import type { App } from '../shared/app-types.js';
import { AppError } from '../shared/errors.js';
import type { Metrics } from './metrics.js';

const digest = (text: string) => createHash('sha256').update(text).digest();

/**
 * Every request timed by its route template (`routeOptions.url`: bounded, never a raw URL with
 * ids), and GET /metrics in the Prometheus text format — outside /api/v1, so outside the rate
 * limits, and hidden from the OpenAPI document (it is not the envelope API). With a key, only a
 * caller sending it as a bearer token reads it.
 */
export const metricsRoutes = fp((app: App, { metrics, key }: { metrics: Metrics; key: string }) => {
  app.addHook('onResponse', (request, reply, done) => {
    metrics.observeRequest(
      request.method,
      request.routeOptions.url ?? 'unmatched',
      reply.statusCode,
      reply.elapsedTime / 1000,
    );
    done();
  });

  const expected = key === '' ? undefined : digest(`Bearer ${key}`);
  app.get('/metrics', { schema: { hide: true } }, async (request, reply) => {
    if (expected && !timingSafeEqual(digest(request.headers.authorization ?? ''), expected)) {
      throw new AppError('METRICS_KEY_INVALID', 'Send Authorization: Bearer <METRICS_KEY>.', {
        field: 'Authorization',
      });
    }
    const text = await metrics.render();
    return reply.type(metrics.contentType).send(text);
  });
});
