import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import Fastify from 'fastify';
import type { Logger } from 'pino';
import type { Container } from './container.js';
import { closingGate } from './http/closing.js';
import { corsOrigins } from './http/cors.js';
import { errorReplies } from './http/error-replies.js';
import { jsonBodies } from './http/json-body.js';
import { landingPage } from './http/landing.js';
import { liveStreams } from './http/live-streams.js';
import { openApi } from './http/openapi.js';
import { requestIds } from './http/request-id.js';
import { requestLogFields } from './http/request-log.js';
import { securityHeaders } from './http/security-headers.js';
import { serverOptions } from './http/server-options.js';
import { validation } from './http/validation.js';
import { registerAdminRoutes } from './modules/admin/admin.routes.js';
import { createAuth } from './modules/auth/auth.js';
import { createGuards } from './modules/auth/guards.js';
import { registerBalanceRoutes } from './modules/balance/balance.routes.js';
import { registerConcertRoutes } from './modules/concerts/concerts.routes.js';
import { registerHealthRoutes } from './modules/health/health.routes.js';
import { registerHoldRoutes } from './modules/holds/holds.routes.js';
import { registerQueueRoutes } from './modules/queue/queue.routes.js';
import { registerReservationRoutes } from './modules/reservations/reservations.routes.js';
import { registerRateLimits } from './rate-limits/rate-limits.js';
import type { App } from './shared/app-types.js';

export interface BuildAppOptions {
  container: Container;
  logger: Logger;
}

export interface BuiltApp {
  app: App;
  /** Start refusing new requests with 503 (graceful shutdown). */
  beginClosing: () => void;
}

/** The HTTP server: the plugins every reply goes through, then the routes. */
export async function buildApp({ container, logger }: BuildAppOptions): Promise<BuiltApp> {
  const { config } = container;
  const closing = closingGate();
  const app = Fastify(serverOptions(config, logger)).withTypeProvider<TypeBoxTypeProvider>();
  await app.register(jsonBodies);
  await app.register(validation);
  await app.register(requestLogFields);
  await app.register(requestIds);
  await app.register(closing.plugin);
  await app.register(errorReplies);
  const auth = await createAuth(config);
  await app.register(securityHeaders);
  await app.register(corsOrigins, { config });
  await registerRateLimits(app, { config, auth, redis: container.redis });
  await app.register(openApi, { auth });
  await app.register(landingPage);
  registerHealthRoutes(app, {
    database: container.database,
    // Only the waiting room makes Redis a condition of serving: a bus outage leaves payments
    // working (the outbox keeps the events), so it must not take the instance out of rotation.
    redis: config.QUEUE_BACKEND !== 'postgres' ? container.redis : undefined,
    outboxLag: container.relay.lag,
    isClosing: closing.isClosing,
  });
  const guards = createGuards(auth, container.queue);
  await app.register(liveStreams, { live: container.live });
  registerQueueRoutes(app, {
    queue: container.queue,
    guards,
    live: container.live,
    streamLimits: container.streamLimits,
  });
  registerConcertRoutes(app, { concerts: container.concerts, guards });
  registerHoldRoutes(app, { holds: container.holds, guards });
  registerReservationRoutes(app, { reservations: container.reservations, guards });
  registerBalanceRoutes(app, {
    balance: container.balance,
    maxChargeAmount: config.MAX_CHARGE_AMOUNT,
    guards,
  });
  registerAdminRoutes(app, { deliveries: container.deliveries, guards });
  return { app, beginClosing: closing.begin };
}
