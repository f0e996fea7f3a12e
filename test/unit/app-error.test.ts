import { expect, it } from 'vitest';
import { AppError } from '../../src/shared/errors.js';

it('captures no stack for a refusal (4xx) and keeps one for a 5xx, leaving the global limit alone', () => {
  const limit = Error.stackTraceLimit;
  const refusal = new AppError('SEAT_ALREADY_HELD', 'taken', { field: 'seatId' });
  expect(refusal.stack).toBe('AppError: taken');
  expect(refusal).toMatchObject({ code: 'SEAT_ALREADY_HELD', status: 409, message: 'taken' });
  const fault = new AppError('SERVICE_UNAVAILABLE', 'down');
  expect(fault.stack).toMatch(/^AppError: down\n\s+at /);
  expect(Error.stackTraceLimit).toBe(limit);
  expect(new Error('plain').stack).toMatch(/\n\s+at /);
});
