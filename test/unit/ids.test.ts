import { describe, expect, it } from 'vitest';
import { newQueueToken, QUEUE_TOKEN_PATTERN } from '../../src/shared/ids.js';

/** Tokens come from a pool of random bytes refilled in blocks: none may repeat across refills. */
describe('newQueueToken', () => {
  it('gives 24 random bytes as 32 base64url characters, never the same twice', () => {
    // 10,000 tokens cross the pool's refill (256 tokens) many times.
    const tokens = Array.from({ length: 10_000 }, () => newQueueToken());
    const pattern = new RegExp(QUEUE_TOKEN_PATTERN);
    for (const token of tokens) {
      expect(token).toMatch(pattern);
      expect(Buffer.from(token, 'base64url')).toHaveLength(24);
    }
    expect(new Set(tokens).size).toBe(tokens.length);
  });
});
