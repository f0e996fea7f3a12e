/**
 * In-memory stand-ins for the ports the services take, for service tests without I/O: each test
 * builds exactly what it exercises and scripts what a port answers.
 */
import { expect } from 'vitest';
import type { TokenRefusal } from '../../src/modules/queue/queue.booking.js';
import type { TokenState } from '../../src/modules/queue/queue.rules.js';
import type { TokenRecord } from '../../src/modules/queue/queue.store.js';
import { AppError } from '../../src/shared/errors.js';

export const NOW = new Date('2026-12-08T10:00:00.000Z');
export const later = (seconds: number): Date => new Date(NOW.getTime() + seconds * 1000);

/** A token as authenticated at NOW: ACTIVE with a minute of shopping left unless told otherwise. */
export function tokenRecord(state: Partial<TokenState> = {}, userId = 7): TokenRecord {
  return {
    token: `token-of-${userId}`,
    userId,
    roomId: 0,
    now: NOW,
    state: {
      status: 'ACTIVE',
      activeUntil: later(60),
      expiresAt: later(60),
      holdConcertId: null,
      lastSeenAt: NOW,
      ...state,
    },
  };
}

/** Asserts that `promise` fails with exactly this AppError: code, message and details. */
export async function expectAppError(
  promise: Promise<unknown>,
  code: string,
  message: string,
  details?: Record<string, unknown>,
): Promise<void> {
  const error: unknown = await promise.then(
    () => undefined,
    (reason: unknown) => reason,
  );
  expect(error).toBeInstanceOf(AppError);
  expect(error).toMatchObject({ code, message, details });
}

/** A refusal a store may answer, and the reply the service must make of it: code, message, details. */
export type RefusalCase<Refusal> = [Refusal, string, string, Record<string, unknown> | undefined];

/** How every booking answers a token its transaction refused. */
export const tokenRefusalCases: RefusalCase<{ reason: 'token'; refusal: TokenRefusal }>[] = [
  [
    { reason: 'token', refusal: 'QUEUE_TOKEN_NOT_ACTIVE' },
    'QUEUE_TOKEN_NOT_ACTIVE',
    'You are still waiting in line; poll GET /api/v1/queue/token.',
    { field: 'Queue-Token' },
  ],
  [
    { reason: 'token', refusal: 'QUEUE_TOKEN_EXPIRED' },
    'QUEUE_TOKEN_EXPIRED',
    'The queue token has expired; join the queue again.',
    { field: 'Queue-Token' },
  ],
  [
    { reason: 'token', refusal: 'TOKEN_GONE' },
    'QUEUE_TOKEN_INVALID',
    'The queue token no longer exists.',
    undefined,
  ],
];
