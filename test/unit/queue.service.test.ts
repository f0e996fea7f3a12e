import { describe, expect, it, vi } from 'vitest';
import { createRedisBookingTokens } from '../../src/modules/queue/queue.booking.redis.js';
import { createQueueService } from '../../src/modules/queue/queue.service.js';
import type { QueueStore, TokenView } from '../../src/modules/queue/queue.store.js';
import type { Executor } from '../../src/db/client.js';
import { expectAppError, later, NOW, tokenRecord } from '../support/fakes.js';

const IDLE_SECONDS = 100;

const view = (status: TokenView['status'], position: number): TokenView => ({
  token: 'token-of-7',
  userId: 7,
  roomId: 0,
  status,
  position,
  expiresAt: later(60),
});

/** A queue service over scripted fakes of its store, booking tokens and admission worker. */
function setUp(admitsAtOnce = false) {
  const store = {
    join: vi.fn<QueueStore['join']>(),
    joinMany: vi.fn<QueueStore['joinMany']>(),
    poll: vi.fn<QueueStore['poll']>(),
    watch: vi.fn<QueueStore['watch']>(),
    find: vi.fn<QueueStore['find']>(),
    expire: vi.fn<QueueStore['expire']>(),
    admit: vi.fn<QueueStore['admit']>(),
    roomStats: vi.fn<QueueStore['roomStats']>(),
  };
  const tokens = {
    holdTaken: vi.fn(() => Promise.resolve()),
    holdReleased: vi.fn(() => Promise.resolve()),
    paid: vi.fn(() => Promise.resolve()),
  };
  const admission = {
    admitNow: vi.fn(() => Promise.resolve()),
    slotFreed: vi.fn(),
    beforeJoin: vi.fn(() => () => admitsAtOnce),
  };
  const releaseHolds = vi.fn(() => Promise.resolve(1));
  const logger = { warn: vi.fn() };
  const positionsChanged = vi.fn();
  const service = createQueueService({
    store,
    tokens,
    releaseHolds,
    admission,
    idleSeconds: IDLE_SECONDS,
    logger,
    positionsChanged,
    rooms: { lookup: () => Promise.resolve(undefined) },
    seatsLeft: () => Promise.resolve(0),
  });
  return { service, store, tokens, admission, releaseHolds, logger, positionsChanged };
}

describe('queue service: joining and reading the line', () => {
  it('answers a join as the store placed it, or after an admission run when it may be admitted at once', async () => {
    const quiet = setUp(false);
    quiet.store.join.mockResolvedValue(view('WAITING', 4));
    expect(await quiet.service.join(7)).toEqual(view('WAITING', 4));
    expect(quiet.admission.admitNow).not.toHaveBeenCalled();

    const head = setUp(true);
    head.store.join.mockResolvedValue(view('WAITING', 1));
    head.store.poll.mockResolvedValue(view('ACTIVE', 0));
    expect(await head.service.join(7)).toEqual(view('ACTIVE', 0));
    expect(head.admission.admitNow).toHaveBeenCalledOnce();
    expect(head.store.poll).toHaveBeenCalledWith('token-of-7');
  });

  it('marks a token its join made in a room that had an opening as never pre-queued (no receipt to read)', async () => {
    const { store, tokens, admission, releaseHolds, logger } = setUp();
    const room = {
      roomId: 12,
      maxActive: 1,
      admissionPerMinute: null,
      state: 'paused' as const,
      opening: { opensAt: NOW.toISOString(), preQueueOpensAt: null, transferred: true },
    };
    const service = createQueueService({
      ...{ store, tokens, admission, releaseHolds, logger },
      idleSeconds: IDLE_SECONDS,
      rooms: { lookup: () => Promise.resolve(room) },
      seatsLeft: () => Promise.resolve(0),
    });
    const inLine = { ...view('WAITING', 9), roomId: 12 };
    // A new buyer: the store takes the token the service made.
    store.join.mockImplementationOnce((_user, _room, token) =>
      Promise.resolve({ ...inLine, token: token! }),
    );
    const made = await service.join(7, 12);
    expect(made.token).toMatch(/^12\./);
    expect(store.join.mock.calls[0]![2]).toBe(made.token);
    expect(made.receiptId).toBeNull();
    // A buyer with a live token (maybe a moved pre-queue entry's): not known, left to be read.
    store.join.mockResolvedValueOnce(inLine);
    expect((await service.join(7, 12)).receiptId).toBeUndefined();
  });

  it('refuses unknown tokens and tokens of another user', async () => {
    const { service, store } = setUp();
    store.poll.mockResolvedValue(null);
    await expectAppError(service.status('nope'), 'QUEUE_TOKEN_INVALID', 'Unknown queue token.', {
      field: 'Queue-Token',
    });
    store.find.mockResolvedValue(tokenRecord({}, 7));
    await expectAppError(
      service.authenticate('token-of-7', 8),
      'QUEUE_TOKEN_USER_MISMATCH',
      'The queue token belongs to another user.',
      { field: 'Queue-Token' },
    );
    expect(await service.authenticate('token-of-7', 7)).toEqual(tokenRecord({}, 7));
  });

  it('words access refusals: still waiting, or over', () => {
    const { service } = setUp();
    const waiting = tokenRecord({ status: 'WAITING', activeUntil: null, expiresAt: null });
    expect(() => service.assertAccess(waiting, 'browse-concerts')).toThrow(
      'You are still waiting in line; poll GET /api/v1/queue/token.',
    );
    const over = tokenRecord({ activeUntil: NOW, expiresAt: NOW });
    expect(() => service.assertAccess(over, 'pay', 3)).toThrow(
      'The queue token has expired; join the queue again.',
    );
    expect(service.allows(tokenRecord(), 'hold', 3)).toBe(true);
    expect(service.allows(over, 'hold', 3)).toBe(false);
  });
});

describe('queue service: leaving and finishing', () => {
  it('releases the holds and refills the slot only when the token was live', async () => {
    const { service, store, releaseHolds, admission, positionsChanged } = setUp();
    store.expire.mockResolvedValueOnce(false);
    await service.leave(tokenRecord());
    expect(releaseHolds).not.toHaveBeenCalled();
    expect(admission.slotFreed).not.toHaveBeenCalled();

    store.expire.mockResolvedValueOnce(true);
    await service.leave(tokenRecord());
    expect(releaseHolds).toHaveBeenCalledWith(7);
    expect(admission.slotFreed).toHaveBeenCalledOnce();
    expect(positionsChanged).toHaveBeenCalledOnce();
  });

  it('hands committed bookings to the booking tokens, and a payment frees the slot', async () => {
    const { service, tokens, admission } = setUp();
    const record = tokenRecord();
    await service.holdTaken(record, later(300), 3);
    await service.holdReleased(record);
    await service.purchaseCompleted(record);
    expect(tokens.holdTaken).toHaveBeenCalledWith(record, later(300), 3);
    expect(tokens.holdReleased).toHaveBeenCalledWith(record);
    expect(tokens.paid).toHaveBeenCalledWith(record);
    expect(admission.slotFreed).toHaveBeenCalledOnce();
  });

  it('never turns a committed booking into an error when the waiting room fails after it', async () => {
    const { service, tokens, admission, logger } = setUp();
    const away = new Error('Redis is away');
    tokens.holdTaken.mockRejectedValue(away);
    tokens.holdReleased.mockRejectedValue(away);
    tokens.paid.mockRejectedValue(away);
    const record = tokenRecord();
    await service.holdTaken(record, later(300), 3);
    await service.holdReleased(record);
    await service.purchaseCompleted(record);
    expect(logger.warn).toHaveBeenCalledTimes(3);
    expect(logger.warn).toHaveBeenCalledWith(
      { err: away },
      'token expiry after payment failed after commit; the booking stands',
    );
    expect(admission.slotFreed).toHaveBeenCalledOnce();
  });
});

describe('booking tokens kept in Redis', () => {
  const tx = {} as Executor;
  const room = () => ({
    holdTaken: vi.fn(() => Promise.resolve()),
    holdReleased: vi.fn(() => Promise.resolve()),
    expire: vi.fn(() => Promise.resolve(true)),
  });

  it('decide by the token as authenticated, with the grace rule of a hold', async () => {
    const tokens = createRedisBookingTokens(room(), { idleSeconds: IDLE_SECONDS });
    const waiting = tokenRecord({ status: 'WAITING', activeUntil: null, expiresAt: null });
    expect(tokens.open(tx, waiting, 'hold').live()).toBe('QUEUE_TOKEN_NOT_ACTIVE');
    expect(tokens.open(tx, tokenRecord(), 'hold').live()).toBeNull();

    // Past its shopping time, kept alive by a hold on concert 3: it may pay there, nothing else.
    const grace = tokenRecord({ activeUntil: NOW, expiresAt: later(120), holdConcertId: 3 });
    expect((await tokens.open(tx, grace, 'pay').verify(3)).ok).toBe(true);
    expect(await tokens.open(tx, grace, 'pay').verify(4)).toEqual({
      ok: false,
      refusal: 'QUEUE_TOKEN_EXPIRED',
    });
    expect(await tokens.open(tx, grace, 'hold').verify(3)).toEqual({
      ok: false,
      refusal: 'QUEUE_TOKEN_EXPIRED',
    });
  });

  it('change nothing in the booking transaction and follow it after the commit', async () => {
    const redis = room();
    const tokens = createRedisBookingTokens(redis, { idleSeconds: IDLE_SECONDS });
    const record = tokenRecord();
    const verified = await tokens.open(tx, record, 'hold').verify(3);
    if (!verified.ok) throw new Error('an ACTIVE token may hold');
    await verified.value.extendForHold(later(300), 3);
    await verified.value.endHoldExtension();
    expect(verified.value.spendStep({} as never)).toBeUndefined();
    expect(redis.holdTaken).not.toHaveBeenCalled();
    expect(redis.holdReleased).not.toHaveBeenCalled();

    await tokens.holdTaken(record, later(300), 3);
    await tokens.holdReleased(record);
    await tokens.paid(record);
    expect(redis.holdTaken).toHaveBeenCalledWith('token-of-7', later(300), 3);
    expect(redis.holdReleased).toHaveBeenCalledWith('token-of-7');
    expect(redis.expire).toHaveBeenCalledWith('token-of-7');
  });
});
