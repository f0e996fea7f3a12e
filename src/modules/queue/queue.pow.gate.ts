import { AppError } from '../../shared/errors.js';
import type { RoomSettings } from '../rooms/rooms.store.js';
import { POW_ERRORS, issueChallenge, redeemSolution, type PowSpent } from './queue.pow.js';

/** How long a challenge may be solved: above the p99 of 20 bits in a loaded browser (0051). */
export const CHALLENGE_TTL_SECONDS = 300;

/** What a join into a proof-of-work room carries (docs/rooms.md). */
export interface PowAnswer {
  challenge: string;
  solution: string;
}

/**
 * The rooms' proof of work at the door (issue 15 item 8, decision 0051): challenges signed with
 * the shared secret, and the join's check — verified without state, then spent once across
 * instances. A room of difficulty 0 asks for nothing and ignores a `pow` sent anyway.
 */
export function createPowGate(deps: {
  /** The signing key; undefined: rooms cannot require work (the rooms service refuses it). */
  secret: string | undefined;
  spent: PowSpent;
  now?: () => Date;
}) {
  const now = deps.now ?? (() => new Date());
  return {
    /** A fresh challenge at the room's current difficulty (0 in a room without proof of work). */
    challenge(room: RoomSettings) {
      const { challenge, difficulty, expiresAt } = issueChallenge({
        concertId: room.roomId,
        difficulty: deps.secret === undefined ? 0 : (room.powDifficulty ?? 0),
        ttlSeconds: CHALLENGE_TTL_SECONDS,
        // Unsigned-able without a secret; difficulty 0 then, and joins never check it.
        secret: deps.secret ?? '',
        now: now(),
      });
      return { challenge, difficulty, expiresAt };
    },

    /** Throws the refusal when the room asks for work and `pow` does not prove it (once). */
    async check(room: RoomSettings, pow: PowAnswer | undefined): Promise<void> {
      const difficulty = room.powDifficulty ?? 0;
      if (difficulty === 0 || deps.secret === undefined) return;
      if (!pow)
        throw new AppError(
          'POW_REQUIRED',
          `This room asks for a proof of work: GET /api/v1/queue/rooms/${room.roomId}/challenge, solve it, and join with {concertId, pow: {challenge, solution}}.`,
          { field: 'pow' },
        );
      const verdict = await redeemSolution(pow.challenge, pow.solution, {
        concertId: room.roomId,
        secret: deps.secret,
        now: now(),
        minDifficulty: difficulty,
        spent: deps.spent,
      });
      if (!verdict.ok)
        throw new AppError(verdict.code, POW_ERRORS[verdict.code].description, { field: 'pow' });
    },
  };
}

export type PowGate = ReturnType<typeof createPowGate>;
