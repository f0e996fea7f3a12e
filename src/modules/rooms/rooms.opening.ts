import type { OpeningRefusal, RoomChange } from './rooms.store.js';

/** The lottery's seed making (queue.lottery.ts, given by the container). */
export interface SeedMaker {
  newLotterySeed: () => string;
  commitmentOf: (seed: string) => string;
}

/** A room's opening as stored (rooms table). */
export interface OpeningColumns {
  opensAt: Date | null;
  preQueueOpensAt: Date | null;
  seed: string | null;
  commitment: string | null;
  openedAt: Date | null;
}

/**
 * The opening after an operator's change (decision 0056), judged at the database's `now`:
 * - the opening must be in the future; the pre-queue window must start before it;
 * - the first scheduling draws the seed (CSPRNG) and publishes its commitment; from then on the
 *   seed never changes: rescheduling keeps it, clearing the opening is refused;
 * - nothing about the opening changes once the room has opened.
 * Returns the columns to write, or why not.
 */
export function scheduleOpening(
  current: OpeningColumns,
  change: Pick<RoomChange, 'opensAt' | 'preQueueOpensAt'>,
  now: Date,
  lottery: SeedMaker,
): OpeningColumns | OpeningRefusal {
  if (change.opensAt === undefined && change.preQueueOpensAt === undefined) return current;
  if (current.openedAt !== null) return 'ROOM_ALREADY_OPENED';
  const opensAt =
    change.opensAt === undefined
      ? current.opensAt
      : change.opensAt === null
        ? null
        : new Date(change.opensAt);
  const preQueueOpensAt =
    change.preQueueOpensAt === undefined
      ? current.preQueueOpensAt
      : change.preQueueOpensAt === null
        ? null
        : new Date(change.preQueueOpensAt);
  if (opensAt === null) {
    if (current.commitment !== null) return 'OPENING_CANNOT_BE_CLEARED';
    if (preQueueOpensAt !== null) return 'PRE_QUEUE_NOT_BEFORE_OPENING';
    return current;
  }
  if (opensAt.getTime() <= now.getTime()) return 'OPENING_IN_PAST';
  if (preQueueOpensAt !== null && preQueueOpensAt.getTime() >= opensAt.getTime())
    return 'PRE_QUEUE_NOT_BEFORE_OPENING';
  const seed = current.seed ?? lottery.newLotterySeed();
  return { opensAt, preQueueOpensAt, seed, commitment: lottery.commitmentOf(seed), openedAt: null };
}
