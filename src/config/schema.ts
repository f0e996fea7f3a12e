import { Type, type Static } from 'typebox';
import { eventSettings } from './events.settings.js';
import {
  liveSettings,
  queueBackendSettings,
  saleSettings,
  seatGateSettings,
} from './sale.settings.js';
import {
  authSettings,
  httpSettings,
  metricsSettings,
  rateLimitSettings,
  readinessSettings,
  serviceSettings,
  tracingSettings,
} from './server.settings.js';
import { databaseSettings, redisSettings, retentionSettings } from './storage.settings.js';
import type { TrustProxy } from './trust-proxy.js';

/**
 * Every environment variable Overture reads, with its default and meaning. This schema is the
 * single source: it validates the environment at start-up and `npm run readme:tables` writes the
 * README's configuration table from it, in this order.
 */
export const configSchema = Type.Object({
  ...serviceSettings,
  ...databaseSettings,
  ...saleSettings,
  ...eventSettings,
  ...retentionSettings,
  ...authSettings,
  ...rateLimitSettings,
  ...httpSettings,
  ...metricsSettings,
  ...tracingSettings,
  ...readinessSettings,
  ...queueBackendSettings,
  ...redisSettings,
  ...liveSettings,
  ...seatGateSettings,
});

export type Config = Omit<Static<typeof configSchema>, 'TRUST_PROXY'> & { TRUST_PROXY: TrustProxy };
