import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  accessError,
  effectiveStatus,
  visibleExpiry,
  type QueueAction,
  type TokenState,
} from '../../src/modules/queue/queue.rules.js';

const T0 = Date.UTC(2026, 0, 1);
const at = (ms: number) => new Date(T0 + ms);
const IDLE = 60_000;

const active = (
  activeUntilMs: number,
  expiresMs = activeUntilMs,
  holdConcertId: number | null = null,
): TokenState => ({
  status: 'ACTIVE',
  activeUntil: at(activeUntilMs),
  expiresAt: at(expiresMs),
  holdConcertId,
  lastSeenAt: at(0),
});
const waiting = (lastSeenMs: number): TokenState => ({
  status: 'WAITING',
  activeUntil: null,
  expiresAt: null,
  holdConcertId: null,
  lastSeenAt: at(lastSeenMs),
});

const actions: QueueAction[] = ['browse-concerts', 'browse-seats', 'hold', 'release', 'pay'];

describe('effectiveStatus', () => {
  it('expires ACTIVE tokens at expiresAt, WAITING tokens after the idle lifetime, and never revives EXPIRED', () => {
    expect(effectiveStatus(active(1000), at(999), IDLE)).toBe('ACTIVE');
    expect(effectiveStatus(active(1000), at(1000), IDLE)).toBe('EXPIRED');
    expect(effectiveStatus(waiting(0), at(IDLE - 1), IDLE)).toBe('WAITING');
    expect(effectiveStatus(waiting(0), at(IDLE), IDLE)).toBe('EXPIRED');
    expect(effectiveStatus({ ...active(10_000), status: 'EXPIRED' }, at(0), IDLE)).toBe('EXPIRED');
  });

  it('is monotonic: once expired at t, expired at every later time', () => {
    fc.assert(
      fc.property(
        fc.boolean(),
        fc.integer({ min: 0, max: 10 ** 7 }),
        fc.integer({ min: 0, max: 10 ** 7 }),
        fc.integer({ min: 0, max: 10 ** 7 }),
        (isActive, edge, t, later) => {
          const state = isActive ? active(edge) : waiting(edge);
          if (effectiveStatus(state, at(t), IDLE) === 'EXPIRED') {
            expect(effectiveStatus(state, at(t + later), IDLE)).toBe('EXPIRED');
          }
        },
      ),
    );
  });
});

describe('accessError', () => {
  it('lets an ACTIVE token do anything before activeUntil', () => {
    for (const action of actions)
      expect(accessError(active(1000), at(500), IDLE, action, 7)).toBeNull();
  });

  it('refuses WAITING and EXPIRED tokens with distinct codes', () => {
    for (const action of actions) {
      expect(accessError(waiting(0), at(10), IDLE, action, 7)).toBe('QUEUE_TOKEN_NOT_ACTIVE');
      expect(accessError(active(1000), at(1000), IDLE, action, 7)).toBe('QUEUE_TOKEN_EXPIRED');
    }
  });

  it('past activeUntil, a live hold keeps browse-seats/release/pay open for its concert only, and never a new hold', () => {
    const grace = active(1000, 5000, 7);
    expect(accessError(grace, at(2000), IDLE, 'pay', 7)).toBeNull();
    expect(accessError(grace, at(2000), IDLE, 'release', 7)).toBeNull();
    expect(accessError(grace, at(2000), IDLE, 'browse-seats', 7)).toBeNull();
    expect(accessError(grace, at(2000), IDLE, 'hold', 7)).toBe('QUEUE_TOKEN_EXPIRED');
    expect(accessError(grace, at(2000), IDLE, 'browse-concerts')).toBe('QUEUE_TOKEN_EXPIRED');
    expect(accessError(grace, at(2000), IDLE, 'pay', 8)).toBe('QUEUE_TOKEN_EXPIRED');
    expect(accessError(grace, at(5000), IDLE, 'pay', 7)).toBe('QUEUE_TOKEN_EXPIRED');
  });

  it('property: access is never granted to a token whose effective status is not ACTIVE, nor past expiresAt', () => {
    fc.assert(
      fc.property(
        fc.constantFrom<'WAITING' | 'ACTIVE' | 'EXPIRED'>('WAITING', 'ACTIVE', 'EXPIRED'),
        fc.integer({ min: 0, max: 10 ** 6 }),
        fc.integer({ min: 0, max: 10 ** 6 }),
        fc.option(fc.integer({ min: 1, max: 3 })),
        fc.integer({ min: 0, max: 2 * 10 ** 6 }),
        fc.constantFrom(...actions),
        fc.integer({ min: 1, max: 3 }),
        (status, activeUntil, extra, holdConcert, now, action, concert) => {
          const state: TokenState = {
            status,
            activeUntil: status === 'WAITING' ? null : at(activeUntil),
            expiresAt: status === 'WAITING' ? null : at(activeUntil + extra),
            holdConcertId: holdConcert,
            lastSeenAt: at(0),
          };
          const error = accessError(state, at(now), IDLE, action, concert);
          if (error === null) {
            expect(effectiveStatus(state, at(now), IDLE)).toBe('ACTIVE');
            expect(now).toBeLessThan(activeUntil + extra);
            if (now >= activeUntil) {
              expect(action).not.toBe('hold');
              expect(concert).toBe(holdConcert);
            }
          }
        },
      ),
    );
  });
});

describe('visibleExpiry', () => {
  it('shows the idle deadline for WAITING and the real end for ACTIVE', () => {
    expect(visibleExpiry(waiting(1000), IDLE)).toEqual(at(1000 + IDLE));
    expect(visibleExpiry(active(1000, 9000, 2), IDLE)).toEqual(at(9000));
  });
});
