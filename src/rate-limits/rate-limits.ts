import rateLimit from '@fastify/rate-limit';
import type { onRequestAsyncHookHandler } from 'fastify';
import fp from 'fastify-plugin';
import type { RedisClient } from '../redis/client.js';
import type { Config } from '../config.js';
import { redisKeys } from '../redis/keys.js';
import type { Auth } from '../modules/auth/auth.js';
import type { App } from '../shared/app-types.js';
import { AppError } from '../shared/errors.js';
import { SyncedRateLimitStore } from './rate-limit.store.js';

/** The per-user budgets: a route names the one it counts against in its `config`. */
export type RateLimitGroup = 'queue' | 'booking' | 'account';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** The per-user rate limit this route counts against besides the per-address one. */
    rateLimitGroup?: RateLimitGroup;
  }
}

/** Where the counters live: this process without Redis, else Redis (synced, or asked every time). */
function sharedCounters(app: App, config: Config, redis: RedisClient | undefined) {
  if (redis === undefined) return {};
  const keys = redisKeys(config.REDIS_KEY_PREFIX);
  if (config.RATE_LIMIT_SYNC_MS === 0)
    return { redis, nameSpace: keys.rateLimit(''), skipOnError: true };
  const options = {
    redis,
    keyOf: keys.rateLimit,
    syncMs: config.RATE_LIMIT_SYNC_MS,
    onSyncError: (error: unknown) =>
      app.log.debug({ err: error }, 'rate limit counts not synced; counting locally'),
  };
  return {
    store: class extends SyncedRateLimitStore {
      constructor() {
        super(options);
      }
    },
  };
}

/**
 * Rate limits on every route registered after it in its scope (app.ts: the API under /api/v1):
 * one per client address (all those routes together), and one per user and group for a route
 * whose `config.rateLimitGroup` names one (queue, booking, account), both over
 * RATE_LIMIT_WINDOW_MS. The user is the proven identity (Client-Id or JWT), or the queue token on
 * token-only calls. With Redis the counters are shared by every instance, synced every
 * RATE_LIMIT_SYNC_MS (SyncedRateLimitStore: no Redis round trip per request), or asked on every
 * request when that is 0; if Redis fails, requests are counted per instance, or pass when asked on
 * every request (the queue itself then answers 503). Exceeding a limit answers 429 RATE_LIMITED
 * with Retry-After.
 */
export const rateLimits = fp(
  async (app: App, deps: { config: Config; auth: Auth; redis: RedisClient | undefined }) => {
    const { config, auth, redis } = deps;
    if (!config.RATE_LIMIT_ENABLED) return;
    await app.register(rateLimit, {
      global: false,
      timeWindow: config.RATE_LIMIT_WINDOW_MS,
      ...sharedCounters(app, config, redis),
    });
    // Two budgets per request (address, then user and group): the plugin's route hooks run one
    // limiter per request, so the checks are created with createRateLimit and applied here.
    const perAddress = app.createRateLimit({
      max: config.RATE_LIMIT_IP_MAX,
      keyGenerator: (request) => `ip:${request.ip}`,
    });
    const maxOf: Record<RateLimitGroup, number> = {
      queue: config.RATE_LIMIT_QUEUE_MAX,
      booking: config.RATE_LIMIT_BOOKING_MAX,
      account: config.RATE_LIMIT_ACCOUNT_MAX,
    };
    const perUser = new Map(
      (Object.keys(maxOf) as RateLimitGroup[]).map((group) => [
        group,
        app.createRateLimit({
          max: maxOf[group],
          keyGenerator: async (request) => `${group}:${await auth.rateKey(request)}`,
        }),
      ]),
    );

    app.addHook('onRoute', (route) => {
      const group = route.config?.rateLimitGroup;
      const checks = [perAddress, ...(group ? [perUser.get(group)] : [])].filter(
        (check) => check !== undefined,
      );
      const limit: onRequestAsyncHookHandler = async (request, reply) => {
        for (const check of checks) {
          const result = await check(request);
          if (!result.isAllowed && result.isExceeded) {
            reply.header('retry-after', String(result.ttlInSeconds));
            throw new AppError(
              'RATE_LIMITED',
              `Too many requests; retry in ${result.ttlInSeconds} s.`,
              {
                limit: result.max,
                retryAfterSeconds: result.ttlInSeconds,
              },
            );
          }
        }
      };
      const existing = route.onRequest;
      route.onRequest = [
        ...(existing === undefined ? [] : Array.isArray(existing) ? existing : [existing]),
        limit,
      ];
    });
  },
);
