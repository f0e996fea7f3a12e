import { describe, expect, it, vi } from 'vitest';
import type { Idempotent } from '../../src/db/idempotency.js';
import { createHoldService } from '../../src/modules/holds/holds.service.js';
import type { HoldDto, HoldRefusal, HoldStore } from '../../src/modules/holds/holds.store.js';
import type { GateEntry, SeatDecision, SeatGate } from '../../src/modules/holds/seat-gate.js';
import type { Outcome } from '../../src/shared/outcome.js';
import {
  expectAppError,
  later,
  tokenRecord,
  tokenRefusalCases,
  type RefusalCase,
} from '../support/fakes.js';

const input = { seatHoldUuid: 'b1c2', concertId: 3, seatId: 11 };
const dto: HoldDto = {
  concertId: 3,
  seatId: 11,
  seatNumber: 11,
  expiresAt: later(300).toISOString(),
};
const held = (replayed = false): Outcome<Idempotent<HoldDto>, HoldRefusal> => ({
  ok: true,
  value: { value: dto, replayed },
});
const refused = (refusal: HoldRefusal): Outcome<Idempotent<HoldDto>, HoldRefusal> => ({
  ok: false,
  refusal,
});

/** A hold service over scripted fakes; `answer` is what the store's hold transaction returns. */
function setUp(
  answer: () => Promise<Outcome<Idempotent<HoldDto>, HoldRefusal>>,
  options: { gate?: GateEntry; mayHold?: boolean } = {},
) {
  const store = {
    hold: vi.fn(answer),
    release: vi.fn<HoldStore['release']>(),
    releaseAll: vi.fn<HoldStore['releaseAll']>(),
  };
  const queue = {
    allows: vi.fn(() => options.mayHold ?? true),
    assertAccess: vi.fn(),
    holdTaken: vi.fn(() => Promise.resolve()),
    holdReleased: vi.fn(() => Promise.resolve()),
  };
  const settle = vi.fn((_decision: SeatDecision) => Promise.resolve());
  const entry: GateEntry | undefined =
    options.gate?.kind === 'decide' ? { kind: 'decide', settle } : options.gate;
  const enter = vi.fn(() => Promise.resolve(entry!));
  const gate: SeatGate | undefined = entry ? { enter } : undefined;
  const service = createHoldService({ store, queue, gate });
  return { service, store, queue, enter, settle };
}

const decide: GateEntry = { kind: 'decide', settle: () => Promise.resolve() };

describe('hold service: holding a seat', () => {
  it("asks the store for the token's user and extends the token after a new hold commits", async () => {
    const { service, store, queue } = setUp(() => Promise.resolve(held()));
    const record = tokenRecord();
    expect(await service.hold(record, input)).toEqual({ value: dto, replayed: false });
    expect(store.hold).toHaveBeenCalledWith(
      { userId: 7, concertId: 3, seatId: 11, holdUuid: 'b1c2' },
      record,
    );
    expect(queue.holdTaken).toHaveBeenCalledWith(record, new Date(dto.expiresAt), 3);
  });

  it('leaves the token alone on a replay: it answers with the past', async () => {
    const { service, queue } = setUp(() => Promise.resolve(held(true)));
    expect(await service.hold(tokenRecord(), input)).toEqual({ value: dto, replayed: true });
    expect(queue.holdTaken).not.toHaveBeenCalled();
  });

  it('words each refusal of the database with its code, message and field', async () => {
    const cases: RefusalCase<HoldRefusal>[] = [
      [
        { reason: 'concert-not-found' },
        'CONCERT_NOT_FOUND',
        'Concert 3 does not exist.',
        { field: 'concertId' },
      ],
      [
        { reason: 'seat-not-found' },
        'SEAT_NOT_FOUND',
        'Seat 11 is not a seat of concert 3.',
        { field: 'seatId' },
      ],
      [
        { reason: 'concert-ended' },
        'CONCERT_ENDED',
        'The show has already started.',
        { field: 'concertId' },
      ],
      [
        { reason: 'seat-taken', holderId: 9, sold: false },
        'SEAT_ALREADY_HELD',
        'Seat 11 is held by someone else.',
        { field: 'seatId' },
      ],
      [
        { reason: 'seat-taken', holderId: null, sold: true },
        'SEAT_ALREADY_RESERVED',
        'Seat 11 is sold.',
        { field: 'seatId' },
      ],
      ...tokenRefusalCases,
    ];
    for (const [refusal, code, message, details] of cases) {
      const { service, queue } = setUp(() => Promise.resolve(refused(refusal)));
      await expectAppError(service.hold(tokenRecord(), input), code, message, details);
      expect(queue.holdTaken).not.toHaveBeenCalled();
    }
  });

  it('passes errors of the store through unchanged', async () => {
    const failure = new Error('connection lost');
    const { service, queue } = setUp(() => Promise.reject(failure));
    await expect(service.hold(tokenRecord(), input)).rejects.toBe(failure);
    expect(queue.holdTaken).not.toHaveBeenCalled();
  });
});

describe('hold service: the seat gate in front of the database', () => {
  it('answers 409 without a transaction when a decided attempt found the seat taken', async () => {
    for (const sold of [false, true]) {
      const { service, store } = setUp(() => Promise.resolve(held()), {
        gate: { kind: 'refuse', holderId: 9, sold },
      });
      await expectAppError(
        service.hold(tokenRecord(), input),
        sold ? 'SEAT_ALREADY_RESERVED' : 'SEAT_ALREADY_HELD',
        sold ? 'Seat 11 is sold.' : 'Seat 11 is held by someone else.',
        { field: 'seatId' },
      );
      expect(store.hold).not.toHaveBeenCalled();
    }
  });

  it('keeps tokens that may not hold out of the gate: the database answers them', async () => {
    const { service, enter, store, queue } = setUp(
      () => Promise.resolve(refused({ reason: 'token', refusal: 'QUEUE_TOKEN_EXPIRED' })),
      { gate: decide, mayHold: false },
    );
    const record = tokenRecord();
    await expectAppError(
      service.hold(record, input),
      'QUEUE_TOKEN_EXPIRED',
      'The queue token has expired; join the queue again.',
      { field: 'Queue-Token' },
    );
    expect(queue.allows).toHaveBeenCalledWith(record, 'hold', 3);
    expect(enter).not.toHaveBeenCalled();
    expect(store.hold).toHaveBeenCalledOnce();
  });

  it('tells the waiting attempts what the database decided, and only whose the seat is', async () => {
    const cases: [Outcome<Idempotent<HoldDto>, HoldRefusal> | Error, SeatDecision][] = [
      [held(), { held: 7 }],
      [held(true), 'undecided'],
      [refused({ reason: 'seat-taken', holderId: 9, sold: false }), { held: 9 }],
      [refused({ reason: 'seat-taken', holderId: 9, sold: true }), { sold: 9 }],
      [refused({ reason: 'seat-taken', holderId: null, sold: false }), 'undecided'],
      [refused({ reason: 'concert-ended' }), 'undecided'],
      [refused({ reason: 'token', refusal: 'QUEUE_TOKEN_EXPIRED' }), 'undecided'],
      [new Error('connection lost'), 'undecided'],
    ];
    for (const [answer, decision] of cases) {
      const { service, settle } = setUp(
        () => (answer instanceof Error ? Promise.reject(answer) : Promise.resolve(answer)),
        { gate: decide },
      );
      await service.hold(tokenRecord(), input).catch(() => undefined);
      expect(settle).toHaveBeenCalledExactlyOnceWith(decision);
    }
  });

  it("lets the user's own attempts through to the database", async () => {
    const { service, store, queue } = setUp(() => Promise.resolve(held()), {
      gate: { kind: 'pass' },
    });
    expect((await service.hold(tokenRecord(), input)).value).toEqual(dto);
    expect(store.hold).toHaveBeenCalledOnce();
    expect(queue.holdTaken).toHaveBeenCalledOnce();
  });
});

describe('hold service: releasing', () => {
  const released = { ...dto, expiresAt: later(100).toISOString() };

  it('checks the token first, then releases and ends the token extension after commit', async () => {
    const { service, store, queue } = setUp(() => Promise.resolve(held()));
    store.release.mockResolvedValue({ ok: true, value: released });
    const record = tokenRecord();
    expect(await service.release(record, 3)).toEqual(released);
    expect(queue.assertAccess).toHaveBeenCalledWith(record, 'release', 3);
    expect(store.release).toHaveBeenCalledWith(3, record);
    expect(queue.holdReleased).toHaveBeenCalledWith(record);
  });

  it('refuses before the database when the token may not release', async () => {
    const { service, store, queue } = setUp(() => Promise.resolve(held()));
    queue.assertAccess.mockImplementation(() => {
      throw new Error('refused');
    });
    await expect(service.release(tokenRecord(), 3)).rejects.toThrow('refused');
    expect(store.release).not.toHaveBeenCalled();
  });

  it('answers 404 when there is no hold, and the token refusal when the transaction refused it', async () => {
    const { service, store, queue } = setUp(() => Promise.resolve(held()));
    store.release.mockResolvedValueOnce({ ok: false, refusal: { reason: 'no-hold' } });
    await expectAppError(
      service.release(tokenRecord(), 3),
      'HOLD_NOT_FOUND',
      'You hold no seat in concert 3.',
      { field: 'concertId' },
    );
    store.release.mockResolvedValueOnce({
      ok: false,
      refusal: { reason: 'token', refusal: 'QUEUE_TOKEN_EXPIRED' },
    });
    await expectAppError(
      service.release(tokenRecord(), 3),
      'QUEUE_TOKEN_EXPIRED',
      'The queue token has expired; join the queue again.',
      { field: 'Queue-Token' },
    );
    expect(queue.holdReleased).not.toHaveBeenCalled();
  });
});
