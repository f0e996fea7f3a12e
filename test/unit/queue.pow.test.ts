import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  issueChallenge,
  leadingZeroBits,
  MAX_DIFFICULTY,
  redeemSolution,
  solutionDigest,
  verifySolution,
  type PowSpent,
  type PowVerdict,
} from '../../src/modules/queue/queue.pow.js';
import { solveChallenge } from '../../src/modules/queue/queue.pow.solve.js';

const SECRET = 'known-answer-secret-of-at-least-32-characters';
const NOW = new Date('2026-12-05T02:00:00Z');

/*
 * A challenge made by hand with OpenSSL, not by this code (bash):
 *
 *   SECRET='known-answer-secret-of-at-least-32-characters'
 *   BODY='pow1.12.8.1790000000.AAECAwQFBgcICQoLDA0ODw'
 *   MAC=$(printf '%s' "$BODY" | openssl dgst -sha256 -hmac "$SECRET" -binary | basenc --base64url | tr -d '=')
 *   for i in $(seq 0 5000); do printf '%s:%s' "$BODY.$MAC" "$i" | sha256sum; done   # first 00…: i=257
 *
 * 257 is the first counter whose hash starts with a zero byte (0081e75f…: exactly 8 zero bits);
 * 7 hashes to 09a19942… (4 zero bits).
 */
const HAND_MADE =
  'pow1.12.8.1790000000.AAECAwQFBgcICQoLDA0ODw.jhqyJOcMM9im9mK-o9wElU85zTyDedNosrJaQN7wcew';
const BEFORE_EXPIRY = new Date(1_790_000_000_000 - 1);

const issue = (overrides: Partial<Parameters<typeof issueChallenge>[0]> = {}) =>
  issueChallenge({
    concertId: 12,
    difficulty: 8,
    ttlSeconds: 60,
    secret: SECRET,
    now: NOW,
    ...overrides,
  });
const room12 = { concertId: 12, secret: SECRET, now: NOW };
const codeOf = (verdict: PowVerdict): string => (verdict.ok ? 'ok' : verdict.code);

/** The smallest counter whose hash has at least `bits` zero bits, by node:crypto. */
const bruteForce = (challenge: string, bits: number, exactly = false): string => {
  for (let i = 0; ; i++) {
    const zeros = leadingZeroBits(solutionDigest(challenge, String(i)));
    if (exactly ? zeros === bits : zeros >= bits) return String(i);
  }
};

describe('proof of work: the format, by hand', () => {
  it('accepts the OpenSSL-made challenge with the sha256sum-found solution', () => {
    expect(verifySolution(HAND_MADE, '257', { ...room12, now: BEFORE_EXPIRY })).toEqual({
      ok: true,
      nonce: 'AAECAwQFBgcICQoLDA0ODw',
      difficulty: 8,
      expiresAt: new Date(1_790_000_000_000),
    });
    expect(
      createHash('sha256').update(`${HAND_MADE}:257`).digest('hex').startsWith('0081e75f'),
    ).toBe(true);
  });

  it('refuses its 4-zero-bit solution as unsolved, and it expires at its second', () => {
    expect(verifySolution(HAND_MADE, '7', { ...room12, now: BEFORE_EXPIRY })).toEqual({
      ok: false,
      code: 'POW_UNSOLVED',
    });
    expect(
      verifySolution(HAND_MADE, '257', { ...room12, now: new Date(1_790_000_000_000) }),
    ).toEqual({ ok: false, code: 'POW_EXPIRED' });
  });

  it('counts leading zero bits across bytes', () => {
    expect(leadingZeroBits(Uint8Array.from([0, 0, 0x10, 0xff]))).toBe(19);
    expect(leadingZeroBits(Uint8Array.from([0x80]))).toBe(0);
    expect(leadingZeroBits(Uint8Array.from([0, 0]))).toBe(16);
  });
});

describe('proof of work: issuing and verifying', () => {
  it('a valid solution verifies, naming the nonce and expiry to spend', () => {
    const issued = issue();
    expect(issued.challenge).toMatch(/^pow1\.12\.8\.\d+\.[\w-]{22}\.[\w-]{43}$/);
    expect(issued.expiresAt).toBe(new Date(NOW.getTime() + 60_000).toISOString());
    const solution = bruteForce(issued.challenge, 8);
    expect(verifySolution(issued.challenge, solution, room12)).toEqual({
      ok: true,
      nonce: issued.nonce,
      difficulty: 8,
      expiresAt: new Date(issued.expiresAt),
    });
  });

  it('a forged signature is refused: another secret, a changed character, another spelling', () => {
    const issued = issue({ secret: 'another-secret-also-at-least-32-characters' });
    const solution = bruteForce(issued.challenge, 8);
    expect(verifySolution(issued.challenge, solution, room12)).toEqual({
      ok: false,
      code: 'POW_INVALID',
    });
    const genuine = issue();
    const mac = genuine.challenge.slice(-43);
    const flipped = `${genuine.challenge.slice(0, -43)}${mac[0] === 'A' ? 'B' : 'A'}${mac.slice(1)}`;
    expect(verifySolution(flipped, bruteForce(flipped, 8), room12).ok).toBe(false);
    // The last base64url character carries 2 spare bits: its other spellings decode to the same
    // MAC bytes, and are refused all the same.
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    const last = alphabet.indexOf(mac.at(-1)!);
    const respelled = `${genuine.challenge.slice(0, -1)}${alphabet[last ^ 1]}`;
    expect(Buffer.from(respelled.slice(-43), 'base64url')).toEqual(Buffer.from(mac, 'base64url'));
    expect(codeOf(verifySolution(respelled, bruteForce(respelled, 8), room12))).toBe('POW_INVALID');
  });

  it('a lowered difficulty is refused: the signature covers it', () => {
    const issued = issue({ difficulty: 20 });
    const eased = issued.challenge.replace('pow1.12.20.', 'pow1.12.0.');
    expect(verifySolution(eased, '0', room12)).toEqual({ ok: false, code: 'POW_INVALID' });
  });

  it('an expired challenge is refused from its expiry on', () => {
    const issued = issue({ ttlSeconds: 30 });
    const solution = bruteForce(issued.challenge, 8);
    const expiry = new Date(issued.expiresAt).getTime();
    expect(
      verifySolution(issued.challenge, solution, { ...room12, now: new Date(expiry - 1) }).ok,
    ).toBe(true);
    expect(
      verifySolution(issued.challenge, solution, { ...room12, now: new Date(expiry) }),
    ).toEqual({ ok: false, code: 'POW_EXPIRED' });
  });

  it('a challenge for another room is refused, and so is one re-addressed to this room', () => {
    const issued = issue({ concertId: 13 });
    const solution = bruteForce(issued.challenge, 8);
    expect(verifySolution(issued.challenge, solution, room12)).toEqual({
      ok: false,
      code: 'POW_WRONG_ROOM',
    });
    const readdressed = issued.challenge.replace('pow1.13.', 'pow1.12.');
    expect(codeOf(verifySolution(readdressed, bruteForce(readdressed, 8), room12))).toBe(
      'POW_INVALID',
    );
  });

  it('too few zero bits is unsolved; a malformed solution too', () => {
    const issued = issue({ difficulty: 10 });
    const nineBits = bruteForce(issued.challenge, 9, true);
    expect(verifySolution(issued.challenge, nineBits, room12)).toEqual({
      ok: false,
      code: 'POW_UNSOLVED',
    });
    for (const malformed of ['', 'a b', 'x'.repeat(65), '1:2'])
      expect(codeOf(verifySolution(issued.challenge, malformed, room12))).toBe('POW_UNSOLVED');
  });

  it('a challenge easier than the room now requires is too easy', () => {
    const issued = issue({ difficulty: 8 });
    const solution = bruteForce(issued.challenge, 8);
    expect(verifySolution(issued.challenge, solution, { ...room12, minDifficulty: 9 })).toEqual({
      ok: false,
      code: 'POW_TOO_EASY',
    });
    expect(verifySolution(issued.challenge, solution, { ...room12, minDifficulty: 8 }).ok).toBe(
      true,
    );
  });

  it('malformed challenges are invalid, and impossible settings are refused at issue', () => {
    for (const malformed of [
      '',
      'pow1',
      `${issue().challenge}.x`,
      `pow2${issue().challenge.slice(4)}`,
    ])
      expect(codeOf(verifySolution(malformed, '0', room12))).toBe('POW_INVALID');
    expect(() => issue({ difficulty: MAX_DIFFICULTY + 1 })).toThrow(RangeError);
    expect(() => issue({ difficulty: 1.5 })).toThrow(RangeError);
    expect(() => issue({ concertId: 0 })).toThrow(RangeError);
    expect(() => issue({ ttlSeconds: 0 })).toThrow(RangeError);
  });

  it('redeeming spends the nonce: the second join with the same solution is refused', async () => {
    const spentNonces = new Set<string>();
    const spent: PowSpent = {
      spend: (nonce) => {
        const fresh = !spentNonces.has(nonce);
        spentNonces.add(nonce);
        return Promise.resolve(fresh);
      },
    };
    const issued = issue();
    const solution = bruteForce(issued.challenge, 8);
    const first = await redeemSolution(issued.challenge, solution, { ...room12, spent });
    expect(first.ok).toBe(true);
    expect(await redeemSolution(issued.challenge, solution, { ...room12, spent })).toEqual({
      ok: false,
      code: 'POW_REUSED',
    });
    // A refused solution spends nothing.
    const other = issue();
    await redeemSolution(other.challenge, 'x', { ...room12, spent });
    expect(spentNonces.has(other.nonce)).toBe(false);
  });
});

describe('proof of work: the WebCrypto solver', () => {
  it('finds a solution that verifies (the smallest counter, whatever the batch size)', async () => {
    const issued = issue({ difficulty: 12 });
    const expected = bruteForce(issued.challenge, 12);
    for (const batch of [1, 7, 64]) {
      const found = await solveChallenge(issued.challenge, 12, { batch });
      expect(found).toEqual({ solution: expected, hashes: Number(expected) + 1 });
      expect(verifySolution(issued.challenge, found.solution, room12).ok).toBe(true);
    }
  });

  it('solves the hand-made challenge like sha256sum did, and difficulty 0 at once', async () => {
    expect((await solveChallenge(HAND_MADE, 8)).solution).toBe('257');
    expect(await solveChallenge(HAND_MADE, 0)).toEqual({ solution: '0', hashes: 1 });
  });

  it('stops when aborted', async () => {
    const issued = issue({ difficulty: MAX_DIFFICULTY });
    await expect(
      solveChallenge(issued.challenge, MAX_DIFFICULTY, { signal: AbortSignal.timeout(50) }),
    ).rejects.toThrow();
  });
});
