import { AppError } from '../../shared/errors.js';

/** Open live streams of this instance, counted per user and per client address, both capped. */
export interface StreamLimits {
  /**
   * Takes a place for one more stream of `userId` from `address`, or refuses with 429
   * TOO_MANY_STREAMS naming the cap. Returns the release, safe to call more than once.
   */
  take(userId: number, address: string): () => void;
  /** Open streams, and the users and addresses holding them (all 0 when none is open). */
  readonly counts: { streams: number; users: number; addresses: number };
}

/**
 * Per instance, in memory: the descriptors, buffers and hub work a stream costs are this
 * instance's, and a count shared through Redis would need a write per open and close and leases
 * to survive a crashed instance (docs/decisions/0019). Checks and counts happen in one
 * synchronous step, so concurrent opens never take more places than there are.
 */
export function createStreamLimits(options: { perUser: number; perAddress: number }): StreamLimits {
  const byUser = new Map<number, number>();
  const byAddress = new Map<string, number>();
  let streams = 0;

  const add = <K>(counts: Map<K, number>, key: K, delta: number) => {
    const count = (counts.get(key) ?? 0) + delta;
    if (count === 0) counts.delete(key);
    else counts.set(key, count);
  };
  const refuse = (per: 'user' | 'address', limit: number) =>
    new AppError(
      'TOO_MANY_STREAMS',
      per === 'user'
        ? `You already have ${limit} live streams open; close one first.`
        : `This address already has ${limit} live streams open; close one first.`,
      { limit, per },
    );

  return {
    take(userId, address) {
      if ((byUser.get(userId) ?? 0) >= options.perUser) throw refuse('user', options.perUser);
      if ((byAddress.get(address) ?? 0) >= options.perAddress)
        throw refuse('address', options.perAddress);
      add(byUser, userId, 1);
      add(byAddress, address, 1);
      streams++;
      let released = false;
      return () => {
        if (released) return;
        released = true;
        add(byUser, userId, -1);
        add(byAddress, address, -1);
        streams--;
      };
    },
    get counts() {
      return { streams, users: byUser.size, addresses: byAddress.size };
    },
  };
}
