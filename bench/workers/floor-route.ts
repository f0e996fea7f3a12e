/**
 * The redis mode's floor: Fastify + ioredis doing a redis-mode join's Redis work and nothing
 * else. POST runs the service's own join script (src/redis/scripts/queue.prelude.lua +
 * queue.join.lua, loaded by the service's defineQueueScripts, so the same keys and arguments in
 * the same order) in the house room for the Client-Id user, on a client with the service's
 * options (createRedisClient: auto-pipelining), and answers 201 with the token's place. No rate
 * limits, identity, metrics, schema validation or admission worker. Its own key prefix
 * (FLOOR_KEY_PREFIX), so it never shares a line with the service on the same Redis database.
 */
import Fastify from 'fastify';
import pino from 'pino';
import {
  defineQueueScripts,
  touchIntervalMs,
  type TokenReply,
} from '../../src/modules/queue/queue.scripts.redis.js';
import { createRedisClient, redisReady } from '../../src/redis/client.js';
import { newRoomToken } from '../../src/shared/ids.js';

// The service's defaults (src/config/sale.settings.ts): MAX_ACTIVE, the token lifetimes.
const maxActive = 50;
const activeMs = 300 * 1000;
const idleSeconds = 1800;

const redis = createRedisClient({ url: process.env.REDIS_URL ?? '', commandTimeoutMs: 1_000 });
if (!(await redisReady(redis, 5_000))) throw new Error('floor route: Redis not ready');
const scripts = defineQueueScripts(
  redis,
  { keyPrefix: process.env.FLOOR_KEY_PREFIX ?? 'floor', idleSeconds },
  'floorQueue',
  { join: 'queue.join' },
);
const touchEveryMs = touchIntervalMs(idleSeconds * 1000);

const app = Fastify({ loggerInstance: pino({ level: 'warn' }), forceCloseConnections: true });
app.post('/api/v1/queue/token', async (request, reply) => {
  const user = Number(request.headers['client-id']);
  const [token, , status, , expiresAt, , , position] = (await scripts.join(
    0,
    newRoomToken(0),
    user,
    maxActive,
    activeMs,
    touchEveryMs,
    '',
  )) as TokenReply;
  const expires = expiresAt === '' ? null : new Date(expiresAt).toISOString();
  return reply.status(201).send({
    code: 'SUCCESS',
    message: 'OK',
    data: { token, status, position, expiresAt: expires },
  });
});
app.get('/health/ready', (_request, reply) => reply.send({ status: 'ok' }));

const port = Number(process.env.PORT ?? 0);
await app.listen({ port, host: '127.0.0.1', backlog: 4096 });

const close = () => {
  void app
    .close()
    .then(() => redis.quit())
    .then(() => process.exit(0));
};
process.once('SIGTERM', close);
process.once('SIGINT', close);
