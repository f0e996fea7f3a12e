import { ReplyError } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { isRedisUnavailable } from '../../src/redis/client.js';

/** ioredis' class for an error reply of Redis (its message is the reply); typed `any` there. */
const RedisReplyError = ReplyError as new (message: string) => Error;
const reply = (message: string): Error => new RedisReplyError(message);

/**
 * Which Redis failures answer 503 SERVICE_UNAVAILABLE: replies of a Redis or a cluster that cannot
 * do the work right now (including a redirection ioredis did not follow while a restarted primary
 * and the slot map disagree) and the client's own "not answering" errors; never an error reply
 * that is a bug of ours (a wrong type, a script error).
 */
describe('isRedisUnavailable', () => {
  it.each([
    ['a moved slot', reply('MOVED 16124 127.0.0.1:32775')],
    ['an asked slot', reply('ASK 16124 127.0.0.1:32775')],
    ['a cluster down', reply('CLUSTERDOWN The cluster is down')],
    ['a primary loading', reply('LOADING Redis is loading the dataset in memory')],
    ['a lost script cache', reply('NOSCRIPT No matching script. Please use EVAL.')],
    ['a closed connection', new Error('Connection is closed.')],
    ['a timed-out command', new Error('Command timed out')],
  ])('is true for %s', (_name, error) => {
    expect(isRedisUnavailable(error)).toBe(true);
  });

  it.each([
    ['a wrong type', reply('WRONGTYPE Operation against a key holding the wrong kind of value')],
    ['a script error', reply('ERR Error running script (call to f_1): @user_script:1: oops')],
    ['a reply that only starts like one', reply('MOVEDX 1 2')],
    ['an error of ours', new Error('could not settle a queue token')],
  ])('is false for %s', (_name, error) => {
    expect(isRedisUnavailable(error)).toBe(false);
  });
});
