import { DrizzleQueryError } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { isDatabaseUnavailable } from '../../src/db/sql.js';

/** A driver error as node-postgres raises it: an Error with a SQLSTATE or socket `code`. */
const driverError = (message: string, code?: string) =>
  Object.assign(new Error(message), code === undefined ? {} : { code });

/** The same error under drizzle's wrapper, as a failed statement of a transaction reaches us. */
const wrapped = (cause: Error) => new DrizzleQueryError('rollback', [], cause);

/**
 * Which failures answer 503 SERVICE_UNAVAILABLE: everything node-postgres raises when a connection
 * dies or cannot be had, bare or under drizzle's wrapper (drizzle's ROLLBACK on a dead client);
 * nothing that is the request's own fault.
 */
describe('isDatabaseUnavailable', () => {
  it.each([
    [
      'a terminated backend',
      driverError('terminating connection due to administrator command', '57P01'),
    ],
    ['a server starting up', driverError('the database system is starting up', '57P03')],
    ['too many connections', driverError('sorry, too many clients already', '53300')],
    ['a connection failure', driverError('connection failure', '08006')],
    ['a closed socket', driverError('Connection terminated unexpectedly')],
    [
      'a dead client',
      driverError('Client has encountered a connection error and is not queryable'),
    ],
    ['a client the pool closed', driverError('Client was closed and is not queryable')],
    ['a full pool', driverError('timeout exceeded when trying to connect')],
    ['a reset', driverError('read ECONNRESET', 'ECONNRESET')],
    ['a broken pipe', driverError('write EPIPE', 'EPIPE')],
    ['a refused connection', driverError('connect ECONNREFUSED 127.0.0.1:5432', 'ECONNREFUSED')],
  ])('is true for %s, bare or wrapped by drizzle', (_name, error) => {
    expect(isDatabaseUnavailable(error)).toBe(true);
    expect(isDatabaseUnavailable(wrapped(error))).toBe(true);
  });

  it.each([
    ['a unique violation', driverError('duplicate key value', '23505')],
    ['a deadlock', driverError('deadlock detected', '40P01')],
    ['a programming error', new TypeError('x is not a function')],
  ])('is false for %s', (_name, error) => {
    expect(isDatabaseUnavailable(error)).toBe(false);
    expect(isDatabaseUnavailable(wrapped(error))).toBe(false);
  });
});
