import { AppError, type ErrorCode } from '../../shared/errors.js';
import type { Admission } from '../../workers/admission.worker.js';
import type { HoldStore } from '../holds/holds.store.js';
import { accessError, effectiveStatus, type QueueAction } from './queue.rules.js';
import type { QueueStore, TokenLink, TokenRecord, TokenView } from './queue.store.js';

export interface QueueServiceDeps {
  store: QueueStore;
  holds: Pick<HoldStore, 'releaseAll'>;
  admission: Pick<Admission, 'admitNow' | 'slotFreed' | 'mightAdmitAtOnce'>;
  idleSeconds: number;
}

export type QueueService = ReturnType<typeof createQueueService>;

export function createQueueService({ store, holds, admission, idleSeconds }: QueueServiceDeps) {
  const idleMs = idleSeconds * 1000;

  const fail = (code: ErrorCode): never => {
    throw new AppError(code, accessMessages[code] ?? 'The queue token may not do this.', {
      field: 'Queue-Token',
    });
  };

  const assertAccess = (record: TokenRecord, action: QueueAction, concertId?: number): void => {
    const code = accessError(record.state, record.now, idleMs, action, concertId);
    if (code !== null) fail(code);
  };

  const assertLive = (record: TokenRecord): void => {
    const status = effectiveStatus(record.state, record.now, idleMs);
    if (status === 'WAITING') fail('QUEUE_TOKEN_NOT_ACTIVE');
    if (status === 'EXPIRED') fail('QUEUE_TOKEN_EXPIRED');
  };

  return {
    /** Joins the line (or returns the live token); a new token at the head of an open line leaves ACTIVE. */
    async enter(userId: number): Promise<TokenView> {
      const view = await store.enter(userId);
      if (!admission.mightAdmitAtOnce(view)) return view;
      await admission.admitNow();
      return (await store.poll(view.token)) ?? view;
    },

    /** Status and position; when `owner` is known, the token must be theirs. */
    async status(token: string, owner?: number): Promise<TokenView> {
      const view = await store.poll(token);
      if (!view) throw unknownToken();
      if (owner !== undefined && owner !== view.userId) throw mismatch();
      return view;
    },

    /** The token of a protected request; `owner`, when known, must be the token's user. */
    async authenticate(token: string, owner?: number): Promise<TokenRecord> {
      const record = await store.find(token);
      if (!record) throw unknownToken();
      if (owner !== undefined && owner !== record.userId) throw mismatch();
      return record;
    },

    assertAccess,

    /** Hands the token to a booking transaction, which decides access after any idempotent replay. */
    link(record: TokenRecord, action: QueueAction): TokenLink {
      return {
        record,
        check: (current, concertId) =>
          concertId === undefined ? assertLive(current) : assertAccess(current, action, concertId),
      };
    },

    /** Leaves the line: releases the user's hold and expires the token; the slot refills at once. */
    async leave(record: TokenRecord): Promise<void> {
      // Only a live token speaks for the user's hold; leaving with a dead one changes nothing.
      if (!(await store.expire(record.token))) return;
      await holds.releaseAll(record.userId);
      admission.slotFreed();
    },

    /** After a hold commits: a token stored outside the booking database is extended here. */
    async holdTaken(record: TokenRecord, holdExpiresAt: Date, concertId: number): Promise<void> {
      if (record.rowId === undefined)
        await store.holdTaken?.(record.token, holdExpiresAt, concertId);
    },

    async holdReleased(record: TokenRecord): Promise<void> {
      if (record.rowId === undefined) await store.holdReleased?.(record.token);
    },

    /** After a payment commits: the token is done and its slot goes to the next in line. */
    async purchaseCompleted(record: TokenRecord): Promise<void> {
      // A token in the booking database was expired inside the payment's transaction.
      if (record.rowId === undefined) await store.expire(record.token);
      admission.slotFreed();
    },
  };
}

const unknownToken = () =>
  new AppError('QUEUE_TOKEN_INVALID', 'Unknown queue token.', { field: 'Queue-Token' });
const mismatch = () =>
  new AppError('QUEUE_TOKEN_USER_MISMATCH', 'The queue token belongs to another user.', {
    field: 'Queue-Token',
  });

const accessMessages: Partial<Record<ErrorCode, string>> = {
  QUEUE_TOKEN_NOT_ACTIVE: 'You are still waiting in line; poll GET /api/v1/queue/token.',
  QUEUE_TOKEN_EXPIRED: 'The queue token has expired; join the queue again.',
};
