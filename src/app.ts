import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import Fastify from 'fastify';
import type { Logger } from 'pino';
import type { Container } from './container.js';
import { closingGate } from './http/closing.js';
import { corsOrigins } from './http/cors.js';
import { errorReplies } from './http/error-replies.js';
import { jsonBodies } from './http/json-body.js';
import { liveStreams } from './http/live-streams.js';
import { openApi } from './http/openapi.js';
import { requestIds } from './http/request-id.js';
import { requestLogFields } from './http/request-log.js';
import { securityHeaders } from './http/security-headers.js';
import { serverOptions } from './http/server-options.js';
import { validation } from './http/validation.js';
import { webClient } from './http/web-client.js';
import { adminRoutes } from './modules/admin/admin.routes.js';
import { auditRoutes } from './modules/audit/audit.routes.js';
import { createAuth, type Auth } from './modules/auth/auth.js';
import { createGuards } from './modules/auth/guards.js';
import type { OperatorKey } from './modules/auth/operator-key.js';
import { balanceRoutes } from './modules/balance/balance.routes.js';
import { concertRoutes } from './modules/concerts/concerts.routes.js';
import { catalogueRoutes } from './modules/concerts/catalogue.routes.js';
import { healthRoutes } from './modules/health/health.routes.js';
import { holdRoutes } from './modules/holds/holds.routes.js';
import { roomRoutes } from './modules/rooms/rooms.routes.js';
import { saleListRoutes } from './modules/rooms/rooms.listing.routes.js';
import { queueRoutes } from './modules/queue/queue.routes.js';
import { openingRoutes } from './modules/queue/queue.opening.routes.js';
import {
  adminReservationRoutes,
  adminShowCancelRoutes,
} from './modules/reservations/reservations.admin.routes.js';
import { reservationRoutes } from './modules/reservations/reservations.routes.js';
import { venueRoutes } from './modules/venues/venues.routes.js';
import { metricsRoutes } from './metrics/metrics.routes.js';
import { rateLimits } from './rate-limits/rate-limits.js';
import type { App } from './shared/app-types.js';

export interface BuildAppOptions {
  container: Container;
  logger: Logger;
  /** What opens the operator endpoints with AUTH_MODE=client-id (none: they are off). */
  operatorKey?: OperatorKey;
}

export interface BuiltApp {
  app: App;
  /** Start refusing new requests with 503 (graceful shutdown). */
  beginClosing: () => void;
}

/** The public API, each module's routes under its path, behind the rate limits. */
async function api(app: App, { container, auth }: { container: Container; auth: Auth }) {
  const { config } = container;
  await app.register(rateLimits, { config, auth, redis: container.redis });
  const guards = createGuards(auth, container.queue);
  const { queue, live, streamLimits, concerts, holds, reservations, balance } = container;
  await app.register(queueRoutes, { prefix: '/queue', queue, guards, live, streamLimits });
  await app.register(openingRoutes, { prefix: '/queue', queue });
  const listing = { page: container.rooms.onSale };
  await app.register(saleListRoutes, { prefix: '/queue', listing });
  await app.register(concertRoutes, { prefix: '/reservations/concerts', concerts, guards });
  await app.register(holdRoutes, { prefix: '/reservations/concerts', holds, guards });
  await app.register(reservationRoutes, { prefix: '/reservations', reservations, guards });
  const maxChargeAmount = config.MAX_CHARGE_AMOUNT;
  await app.register(balanceRoutes, { prefix: '/balance', balance, maxChargeAmount, guards });
  const { venues, audit } = container;
  const { deliveries } = container;
  await app.register(adminRoutes, { prefix: '/admin', deliveries, audit, guards });
  await app.register(venueRoutes, { prefix: '/admin/venues', venues, audit, guards });
  const { rooms } = container;
  await app.register(roomRoutes, { prefix: '/admin/rooms', rooms, audit, guards });
  const { catalogue } = container;
  await app.register(catalogueRoutes, { prefix: '/admin/concerts', catalogue, audit, guards });
  await app.register(auditRoutes, { prefix: '/admin/audit', audit, guards });
  await app.register(adminReservationRoutes, {
    prefix: '/admin/reservations',
    reservations,
    audit,
    guards,
  });
  await app.register(adminShowCancelRoutes, {
    prefix: '/admin/concerts',
    reservations,
    audit,
    guards,
  });
}

/** The HTTP server: the plugins every reply goes through, then the routes. */
export async function buildApp({
  container,
  logger,
  operatorKey,
}: BuildAppOptions): Promise<BuiltApp> {
  const { config } = container;
  const closing = closingGate();
  const app = Fastify(serverOptions(config, logger)).withTypeProvider<TypeBoxTypeProvider>();
  await app.register(jsonBodies);
  await app.register(validation);
  await app.register(requestLogFields);
  await app.register(requestIds);
  await app.register(closing.plugin);
  await app.register(errorReplies);
  if (container.metrics)
    await app.register(metricsRoutes, { metrics: container.metrics, key: config.METRICS_KEY });
  const auth = await createAuth(config, operatorKey);
  await app.register(securityHeaders);
  await app.register(corsOrigins, { config });
  await app.register(openApi, { auth });
  await app.register(webClient);
  await app.register(healthRoutes, {
    prefix: '/health',
    database: container.database,
    // Only the waiting room makes Redis a condition of serving: a bus outage leaves payments
    // working (the outbox keeps the events), so it must not take the instance out of rotation.
    redis: config.QUEUE_BACKEND !== 'postgres' ? container.redis : undefined,
    outboxLag: container.relay.lag,
    readiness: container.readiness,
    maxOutboxLagSeconds: config.READY_MAX_OUTBOX_LAG_SECONDS,
    isClosing: closing.isClosing,
  });
  await app.register(liveStreams, { live: container.live });
  await app.register(api, { prefix: '/api/v1', container, auth });
  return { app, beginClosing: closing.begin };
}
