import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * Proof of work for joining a room (issue 15 item 8, decision 0051). Stateless: a challenge is a
 * token the server signs (HMAC-SHA256 with POW_SECRET) and reads back; only spending it needs
 * shared state ({@link PowSpent}). The formats, exactly:
 *
 *   challenge = "pow1.<concertId>.<difficulty>.<expiresAt>.<nonce>.<mac>"
 *     concertId   decimal, no leading zeros
 *     difficulty  decimal, 0–{@link MAX_DIFFICULTY}: leading zero bits required
 *     expiresAt   decimal Unix seconds
 *     nonce       16 random bytes, base64url (22 characters)
 *     mac         base64url(HMAC-SHA256(key = UTF-8 of POW_SECRET,
 *                   message = UTF-8 of everything before ".<mac>")) (43 characters)
 *   solution  = 1–64 characters of [A-Za-z0-9_-] (the solver sends a decimal counter)
 *   solved    ⇔ SHA-256(UTF-8 of challenge + ":" + solution) starts with ≥ difficulty zero bits
 *
 * All of it is ASCII, and the client hashes the challenge exactly as received.
 */

export const POW_VERSION = 'pow1';
/** 2^32 hashes on average is hours in a browser: anything above is a mistake. */
export const MAX_DIFFICULTY = 32;
export const SOLUTION_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;
const CHALLENGE_PATTERN =
  /^pow1\.([1-9][0-9]{0,15})\.([0-9]{1,2})\.([1-9][0-9]{0,11})\.([A-Za-z0-9_-]{22})\.([A-Za-z0-9_-]{43})$/;

/** What the challenge route answers (issue 15: nonce, difficulty, expiry, signed). */
export interface PowChallenge {
  challenge: string;
  nonce: string;
  difficulty: number;
  expiresAt: string;
}

/**
 * Why a solution is refused; each is a stable error code for the join route (all 4xx: the
 * buyer fetches a new challenge and solves it). POW_REUSED comes from {@link redeemSolution}.
 */
export type PowRefusal =
  'POW_INVALID' | 'POW_EXPIRED' | 'POW_WRONG_ROOM' | 'POW_TOO_EASY' | 'POW_UNSOLVED' | 'POW_REUSED';

export type PowVerdict =
  | { ok: true; nonce: string; difficulty: number; expiresAt: Date }
  | { ok: false; code: PowRefusal };

/** Error codes, their HTTP status and their meaning, for the error catalogue when wired. */
export const POW_ERRORS: Record<PowRefusal, { status: number; description: string }> = {
  POW_INVALID: {
    status: 400,
    description: 'The proof-of-work challenge is malformed or not signed by this service.',
  },
  POW_EXPIRED: {
    status: 400,
    description: 'The proof-of-work challenge has expired; get another.',
  },
  POW_WRONG_ROOM: { status: 400, description: 'The challenge was issued for another room.' },
  POW_TOO_EASY: {
    status: 400,
    description: 'The room now requires more work than this challenge asked for; get another.',
  },
  POW_UNSOLVED: {
    status: 400,
    description: 'The solution is malformed or its hash has too few leading zero bits.',
  },
  POW_REUSED: { status: 409, description: 'This challenge was already used to join; get another.' },
};

const sign = (secret: string, message: string): Buffer =>
  createHmac('sha256', secret).update(message, 'utf8').digest();

const checkDifficulty = (difficulty: number): void => {
  if (!Number.isInteger(difficulty) || difficulty < 0 || difficulty > MAX_DIFFICULTY)
    throw new RangeError(`difficulty is an integer from 0 to ${MAX_DIFFICULTY}`);
};

/** A fresh signed challenge for one room; nothing is stored. */
export function issueChallenge(options: {
  concertId: number;
  difficulty: number;
  ttlSeconds: number;
  secret: string;
  now: Date;
}): PowChallenge {
  const { concertId, difficulty, ttlSeconds, secret, now } = options;
  if (!Number.isSafeInteger(concertId) || concertId < 1) throw new RangeError('concertId ≥ 1');
  checkDifficulty(difficulty);
  if (!Number.isInteger(ttlSeconds) || ttlSeconds < 1) throw new RangeError('ttlSeconds ≥ 1');
  const expires = Math.ceil(now.getTime() / 1000) + ttlSeconds;
  const nonce = randomBytes(16).toString('base64url');
  const body = `${POW_VERSION}.${concertId}.${difficulty}.${expires}.${nonce}`;
  return {
    challenge: `${body}.${sign(secret, body).toString('base64url')}`,
    nonce,
    difficulty,
    expiresAt: new Date(expires * 1000).toISOString(),
  };
}

/** Leading zero bits of a digest. */
export function leadingZeroBits(digest: Uint8Array): number {
  let bits = 0;
  for (const byte of digest) {
    if (byte === 0) {
      bits += 8;
      continue;
    }
    return bits + Math.clz32(byte) - 24;
  }
  return bits;
}

/** The hash a solution is judged by: SHA-256 of `challenge + ":" + solution`. */
export const solutionDigest = (challenge: string, solution: string): Buffer =>
  createHash('sha256').update(`${challenge}:${solution}`, 'utf8').digest();

/**
 * Checks a solution without any state: the signature (compared in constant time), the room, the
 * expiry, the room's current difficulty (`minDifficulty`, when it was raised after the challenge
 * was issued), then the work. The order matters only for which refusal a bad request gets; an
 * unsigned challenge is never read further.
 */
export function verifySolution(
  challenge: string,
  solution: string,
  options: { concertId: number; secret: string; now: Date; minDifficulty?: number },
): PowVerdict {
  const match = CHALLENGE_PATTERN.exec(challenge);
  if (!match) return { ok: false, code: 'POW_INVALID' };
  const [, concert, difficultyText, expiresText, nonce, mac] = match as unknown as [
    string,
    string,
    string,
    string,
    string,
    string,
  ];
  const body = challenge.slice(0, challenge.length - mac.length - 1);
  // Compared as text: base64url has several spellings of the last character's spare bits, and
  // only the one this service writes is accepted (both are 43 ASCII bytes, by the pattern).
  const presented = Buffer.from(mac, 'utf8');
  const expected = Buffer.from(sign(options.secret, body).toString('base64url'), 'utf8');
  if (!timingSafeEqual(presented, expected)) return { ok: false, code: 'POW_INVALID' };
  const difficulty = Number(difficultyText);
  // A signed difficulty above the maximum was never issued by this code: treat as forged.
  if (difficulty > MAX_DIFFICULTY) return { ok: false, code: 'POW_INVALID' };
  if (Number(concert) !== options.concertId) return { ok: false, code: 'POW_WRONG_ROOM' };
  const expiresAt = new Date(Number(expiresText) * 1000);
  if (options.now.getTime() >= expiresAt.getTime()) return { ok: false, code: 'POW_EXPIRED' };
  if (difficulty < (options.minDifficulty ?? 0)) return { ok: false, code: 'POW_TOO_EASY' };
  if (!SOLUTION_PATTERN.test(solution)) return { ok: false, code: 'POW_UNSOLVED' };
  if (leadingZeroBits(solutionDigest(challenge, solution)) < difficulty)
    return { ok: false, code: 'POW_UNSOLVED' };
  return { ok: true, nonce, difficulty, expiresAt };
}

/**
 * Where spent challenges are remembered, shared by every instance, until they expire: `spend`
 * answers true to exactly one caller per nonce, whichever instance asks (adapters:
 * queue.pow-spent.redis.ts, queue.pow-spent.postgres.ts).
 */
export interface PowSpent {
  spend(nonce: string, expiresAt: Date): Promise<boolean>;
}

/**
 * How long past a challenge's expiry its nonce is still remembered: instances' clocks may differ
 * by this much and one of them still accept the challenge as unexpired.
 */
export const SPENT_MARGIN_MS = 60_000;

/** The join's whole check: {@link verifySolution}, then spend the nonce once across instances. */
export async function redeemSolution(
  challenge: string,
  solution: string,
  options: {
    concertId: number;
    secret: string;
    now: Date;
    minDifficulty?: number;
    spent: PowSpent;
  },
): Promise<PowVerdict> {
  const verdict = verifySolution(challenge, solution, options);
  if (!verdict.ok) return verdict;
  return (await options.spent.spend(verdict.nonce, verdict.expiresAt))
    ? verdict
    : { ok: false, code: 'POW_REUSED' };
}
