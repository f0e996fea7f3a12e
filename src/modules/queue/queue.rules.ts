/** PRE_QUEUE: in a room's pre-queue, waiting for the opening's draw (queue.opening.ts). */
export type TokenStatus = 'WAITING' | 'ACTIVE' | 'EXPIRED' | 'PRE_QUEUE';

/** What a store knows about one token; every time comes from the store's clock. */
export interface TokenState {
  status: TokenStatus;
  /** End of free shopping (ACTIVE only). */
  activeUntil: Date | null;
  /**
   * When the token really ends (ACTIVE only): activeUntil, or later while the user holds a seat —
   * the token then stays usable for that hold's concert until the hold expires.
   */
  expiresAt: Date | null;
  /** Concert of the hold that extended the token, if any. */
  holdConcertId: number | null;
  /** Last status poll (WAITING tokens expire after the idle lifetime without one). */
  lastSeenAt: Date;
}

/** Why a token may not act: it is still in line, or it is over (codes of the error table). */
export type AccessRefusal = 'QUEUE_TOKEN_NOT_ACTIVE' | 'QUEUE_TOKEN_EXPIRED';

/** What a queue-protected request wants to do; a token past its shopping time may only finish a hold. */
export type QueueAction = 'browse-concerts' | 'browse-seats' | 'hold' | 'release' | 'pay';

export function effectiveStatus(state: TokenState, now: Date, idleMs: number): TokenStatus {
  if (state.status === 'ACTIVE' && state.expiresAt !== null && state.expiresAt <= now)
    return 'EXPIRED';
  if (state.status === 'WAITING' && state.lastSeenAt.getTime() + idleMs <= now.getTime())
    return 'EXPIRED';
  return state.status;
}

/** Whether a token is live at all, whatever it wants to do: null when ACTIVE. */
export function liveRefusal(state: TokenState, now: Date, idleMs: number): AccessRefusal | null {
  const status = effectiveStatus(state, now, idleMs);
  if (status === 'WAITING') return 'QUEUE_TOKEN_NOT_ACTIVE';
  if (status === 'EXPIRED') return 'QUEUE_TOKEN_EXPIRED';
  return null;
}

/**
 * Whether a token may perform an action. ACTIVE tokens may do anything until activeUntil; after
 * that, while a hold keeps the token alive, only the hold's concert may be browsed, paid or
 * released — so nobody is timed out of a payment they can still make, and nobody can chain holds
 * to keep a shopping slot forever.
 */
export function accessError(
  state: TokenState,
  now: Date,
  idleMs: number,
  action: QueueAction,
  concertId?: number,
): AccessRefusal | null {
  const live = liveRefusal(state, now, idleMs);
  if (live !== null) return live;
  if (state.activeUntil !== null && now < state.activeUntil) return null;
  const finishingHold =
    action !== 'hold' &&
    action !== 'browse-concerts' &&
    concertId !== undefined &&
    concertId === state.holdConcertId;
  return finishingHold ? null : 'QUEUE_TOKEN_EXPIRED';
}

/** The expiry a client sees: the real end of an ACTIVE token, the idle deadline of a WAITING one. */
export function visibleExpiry(state: TokenState, idleMs: number): Date | null {
  if (state.status === 'WAITING') return new Date(state.lastSeenAt.getTime() + idleMs);
  return state.expiresAt;
}

/**
 * Steps the estimate is rounded up to: [below this many seconds, step]. Each step is at most 10%
 * of the waits it applies to from 10 s on (decision 0058: the 5-s steps under a minute this
 * replaced overstated a 6-s wait by 67%), and whole seconds below. A finer step costs no pushes:
 * a waiting buyer's position, also in the state, changes with every admission anyway.
 */
const WAIT_STEPS: readonly (readonly [number, number])[] = [
  [20, 1],
  [60, 2],
  [120, 5],
  [300, 10],
  [600, 30],
  [1_800, 60],
  [3_600, 120],
  [Infinity, 300],
];

/**
 * The expected wait of a token `position` places from the front, at `admissionRate` admissions
 * per second: 0 once ACTIVE, null when it cannot be said (EXPIRED, or nobody was admitted
 * lately). Rounded up (never promising less than the measured pace says) to steps of at most 10%
 * of the wait (WAIT_STEPS).
 */
export function estimatedWaitSeconds(
  status: TokenStatus | 'SOLD_OUT',
  position: number,
  admissionRate: number,
): number | null {
  if (status === 'ACTIVE') return 0;
  if (status !== 'WAITING' || !(admissionRate > 0) || !(position > 0)) return null;
  const seconds = position / admissionRate;
  const step = WAIT_STEPS.find(([below]) => seconds < below)?.[1] ?? 300;
  return Math.ceil(seconds / step) * step;
}
