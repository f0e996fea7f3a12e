/**
 * What a store answers to a request it may refuse: the value, or why not. The store names the
 * reason; the service words it (an AppError with its message), so adapters hold no replies.
 */
export type Outcome<T, Refusal> = { ok: true; value: T } | { ok: false; refusal: Refusal };

/** Carries a refusal out of the work; never leaves `refusable`. */
class Refused<Refusal> extends Error {
  constructor(readonly refusal: Refusal) {
    super('refused');
  }
}

/**
 * Runs `work`, which may stop at any point with `refuse(reason)`: the refusal unwinds the work
 * like an error — a transaction around it rolls back — and comes back as a refused outcome.
 * Errors are errors: they propagate unchanged.
 */
export async function refusable<T, Refusal>(
  work: (refuse: (refusal: Refusal) => never) => Promise<T>,
): Promise<Outcome<T, Refusal>> {
  const refuse = (refusal: Refusal): never => {
    throw new Refused(refusal);
  };
  try {
    return { ok: true, value: await work(refuse) };
  } catch (error) {
    if (error instanceof Refused) return { ok: false, refusal: error.refusal as Refusal };
    throw error;
  }
}
