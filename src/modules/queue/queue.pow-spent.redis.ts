import type { RedisClient } from '../../redis/client.js';
import { redisKeys } from '../../redis/keys.js';
import { SPENT_MARGIN_MS, type PowSpent } from './queue.pow.js';

/**
 * Spent challenges in Redis: one key per nonce, `SET NX PXAT` (expiry + margin, on Redis's clock).
 * NX makes the check and the write one step on the server, so of any number of concurrent spends
 * of one nonce, from any instance, exactly one sets the key and answers true.
 */
export function createRedisPowSpent(
  redis: RedisClient,
  prefix: string,
  options: { marginMs?: number } = {},
): PowSpent {
  const keys = redisKeys(prefix);
  const marginMs = options.marginMs ?? SPENT_MARGIN_MS;
  return {
    async spend(nonce, expiresAt) {
      const until = expiresAt.getTime() + marginMs;
      const reply = await redis.set(keys.powSpent(nonce), '1', 'PXAT', until, 'NX');
      return reply === 'OK';
    },
  };
}
