import type { GateEntry, SeatDecision, SeatGate } from './seat-gate.js';

interface Deciding {
  owner: number;
  decision: Promise<SeatDecision>;
}

/**
 * The seat gate without Redis: the same protocol as the Redis gate, within one process. While
 * one attempt on this instance decides a seat, other users' attempts here wait for its answer
 * and get the same 409 without a query; the named holder and a user's own attempts always go to
 * the database. A storm then costs the database about one transaction per instance. Never the
 * arbiter: an attempt that waited longer than `ttlMs` goes to the database itself.
 */
export function createMemorySeatGate(options: { ttlMs: number }): SeatGate {
  const seats = new Map<string, Deciding>();
  const gaveUp = (): Promise<SeatDecision> =>
    new Promise((resolve) => setTimeout(() => resolve('undecided'), options.ttlMs).unref());

  return {
    async enter(seat, userId) {
      const key = `${seat.concertId}:${seat.seatId}`;
      for (;;) {
        const current = seats.get(key);
        if (!current) {
          let settle!: (decision: SeatDecision) => void;
          const decision = new Promise<SeatDecision>((resolve) => (settle = resolve));
          const mine: Deciding = { owner: userId, decision };
          seats.set(key, mine);
          const entry: GateEntry = {
            kind: 'decide',
            settle(result) {
              if (seats.get(key) === mine) seats.delete(key);
              settle(result);
              return Promise.resolve();
            },
          };
          return entry;
        }
        if (current.owner === userId) return { kind: 'pass' };
        const decision = await Promise.race([current.decision, gaveUp()]);
        if (decision === 'undecided') {
          // Nothing others may go by (or the decider took too long): take the gate or pass.
          if (seats.get(key) === current) return { kind: 'pass' };
          continue;
        }
        const holder = 'held' in decision ? decision.held : decision.sold;
        return holder === userId
          ? { kind: 'pass' }
          : { kind: 'refuse', holderId: holder, sold: 'sold' in decision };
      }
    },
  };
}
