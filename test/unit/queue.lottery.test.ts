import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  commitmentOf,
  compareDrawEntries,
  drawKey,
  drawOrder,
  drawPage,
  isReceiptId,
  isSeed,
  newLotterySeed,
  newReceiptId,
  placeOf,
  verifyDraw,
} from '../../src/modules/queue/queue.lottery.js';

/*
 * Known answers, computed once outside this code with coreutils and OpenSSL (bash):
 *
 *   SEED=000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f
 *   printf '%s' "$SEED" | sha256sum          # and: printf '%s' "$SEED" | openssl dgst -sha256
 *   for r in $(for i in 1 2 3 4 5; do openssl rand 16 | basenc --base64url | tr -d '='; done); do
 *     printf '%s %s\n' "$(printf '%s:%s' "$SEED" "$r" | sha256sum | cut -d' ' -f1)" "$r"
 *   done | LC_ALL=C sort
 *
 * (the receipt ids below are that run's random ones, kept as they came out).
 */
const SEED = '000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f';
const COMMITMENT = '6c86c6aac5fb24bcf5d9939cb7d7d5645ce39418f449e03b262dd4fa14b4b92b';
const KEYS: Record<string, string> = {
  'rauKIhEa8chlZ92pG-tBpw': 'e6d67b2e24e188126ca2010f283adbc6e094764863fd39d035b9267624ce735a',
  mssLEtyccAMurTSKzd6_sA: 'dfc5b7f765be8e4819fab52511a785b605b0648338b3ffef745d79f2686251c1',
  bZfJa0KzfKA667InYcDzPQ: '1bbcbf48101d11d6a6a773b9ffbdf766342c7ddddae983a721e77e394eb66496',
  '-FX1lVHx936X_BebLLWHDA': 'ec61b0e04b46264ee6606d5d9161f7ef55b804787130f48c8f69317872da7215',
  '5qB-jSqh9RGyqwmqCjB86A': 'c7b412931f8178218a8e7683293c707c4f887338920307bedf76f1a491a4e9c2',
};
const RECEIPTS = Object.keys(KEYS);
/** `LC_ALL=C sort` of the lines above, receipt column. */
const EXPECTED_DRAW = [
  'bZfJa0KzfKA667InYcDzPQ',
  '5qB-jSqh9RGyqwmqCjB86A',
  'mssLEtyccAMurTSKzd6_sA',
  'rauKIhEa8chlZ92pG-tBpw',
  '-FX1lVHx936X_BebLLWHDA',
];

describe('lottery: known answers (sha256sum / openssl)', () => {
  it('the commitment is SHA-256 of the seed as a hex string', () => {
    expect(commitmentOf(SEED)).toBe(COMMITMENT);
  });

  it('each draw key is SHA-256 of seed ":" receipt id', () => {
    for (const receiptId of RECEIPTS) expect(drawKey(SEED, receiptId)).toBe(KEYS[receiptId]);
  });

  it('the draw is the receipts by ascending key, and places count from 1', () => {
    expect(drawOrder(SEED, RECEIPTS)).toEqual(EXPECTED_DRAW);
    expect(placeOf(EXPECTED_DRAW, 'bZfJa0KzfKA667InYcDzPQ')).toBe(1);
    expect(placeOf(EXPECTED_DRAW, '-FX1lVHx936X_BebLLWHDA')).toBe(5);
    expect(placeOf(EXPECTED_DRAW, 'AAAAAAAAAAAAAAAAAAAAAA')).toBeUndefined();
  });
});

describe('lottery: seeds and receipt ids', () => {
  it('a seed is 64 hex characters, fresh every time', () => {
    const seeds = new Set(Array.from({ length: 100 }, newLotterySeed));
    expect(seeds.size).toBe(100);
    for (const seed of seeds) expect(isSeed(seed)).toBe(true);
  });

  it('a receipt id is 22 URL-safe characters (128 random bits), fresh every time', () => {
    const ids = new Set(Array.from({ length: 1000 }, newReceiptId));
    expect(ids.size).toBe(1000);
    for (const id of ids) {
      expect(isReceiptId(id)).toBe(true);
      expect(encodeURIComponent(id)).toBe(id);
      expect(Buffer.from(id, 'base64url')).toHaveLength(16);
    }
  });

  it('refuses a malformed seed instead of hashing it', () => {
    expect(() => commitmentOf(SEED.toUpperCase())).toThrow(RangeError);
    expect(() => commitmentOf(SEED.slice(2))).toThrow(RangeError);
    expect(() => drawOrder('x', RECEIPTS)).toThrow(RangeError);
  });

  it('refuses a receipt id given twice', () => {
    expect(() => drawOrder(SEED, [...RECEIPTS, RECEIPTS[0]!])).toThrow(/twice/);
  });
});

describe('lottery: order stability', () => {
  it('the draw does not depend on the order the receipts are listed in', () => {
    fc.assert(
      fc.property(fc.shuffledSubarray(RECEIPTS, { minLength: 5, maxLength: 5 }), (listed) => {
        expect(drawOrder(SEED, listed)).toEqual(EXPECTED_DRAW);
      }),
    );
  });

  it('a receipt joining or leaving the set never reorders the others', () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.string({ minLength: 1, maxLength: 24 }), { minLength: 2, maxLength: 30 }),
        (ids) => {
          const seed = createHash('sha256').update(ids.join('|')).digest('hex');
          const all = drawOrder(seed, ids);
          const without = drawOrder(seed, ids.slice(1));
          expect(without).toEqual(all.filter((id) => id !== ids[0]));
        },
      ),
    );
  });

  it('equal keys (impossible in practice) fall back to ascending receipt id', () => {
    const key = KEYS[RECEIPTS[0]!]!;
    const entries = ['b', 'a', 'c'].map((receiptId) => ({ key, receiptId }));
    expect(entries.sort(compareDrawEntries).map((entry) => entry.receiptId)).toEqual([
      'a',
      'b',
      'c',
    ]);
    expect(compareDrawEntries({ key: '0', receiptId: 'z' }, { key: '1', receiptId: 'a' })).toBe(-1);
  });
});

describe('lottery: verifying a published draw', () => {
  const published = { commitment: COMMITMENT, seed: SEED, draw: EXPECTED_DRAW, total: 5 };

  it('accepts the honest draw', () => {
    expect(verifyDraw(published)).toEqual({ ok: true, total: 5 });
    expect(verifyDraw({ ...published, commitment: COMMITMENT.toUpperCase() }).ok).toBe(true);
  });

  it('fails on a changed seed (one hex digit)', () => {
    const seed = `${SEED.slice(0, -1)}e`;
    expect(verifyDraw({ ...published, seed })).toMatchObject({
      ok: false,
      reason: 'COMMITMENT_MISMATCH',
    });
    expect(verifyDraw({ ...published, seed: 'not a seed' })).toMatchObject({
      reason: 'SEED_MALFORMED',
    });
  });

  it('fails on a changed order (two neighbours swapped), naming the place', () => {
    const draw = [...EXPECTED_DRAW];
    [draw[2], draw[3]] = [draw[3]!, draw[2]!];
    expect(verifyDraw({ ...published, draw })).toMatchObject({
      ok: false,
      reason: 'ORDER_MISMATCH',
      place: 4,
    });
  });

  it('fails on a receipt added after the opening, or one listed twice', () => {
    const added = drawOrder(SEED, [...RECEIPTS, newReceiptId()]);
    // In key order it passes the order check: only the published total gives it away.
    expect(verifyDraw({ ...published, draw: added })).toMatchObject({ reason: 'TOTAL_MISMATCH' });
    expect(
      verifyDraw({ ...published, draw: [...EXPECTED_DRAW, EXPECTED_DRAW[4]!], total: 6 }),
    ).toMatchObject({ reason: 'DUPLICATE_RECEIPT', place: 6 });
  });

  it('fails when any draw is checked against another seed’s commitment', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 32, maxLength: 32 }), (bytes) => {
        const seed = Buffer.from(bytes).toString('hex');
        fc.pre(seed !== SEED);
        expect(verifyDraw({ ...published, seed }).ok).toBe(false);
      }),
    );
  });

  it('pages cut the draw in place order; before the opening there is nothing to page', () => {
    const lottery = { seed: SEED, commitment: COMMITMENT, draw: EXPECTED_DRAW };
    expect(drawPage(lottery, 1, 2)).toEqual({
      seed: SEED,
      commitment: COMMITMENT,
      total: 5,
      page: 1,
      pageSize: 2,
      receipts: EXPECTED_DRAW.slice(0, 2),
    });
    expect(drawPage(lottery, 3, 2).receipts).toEqual([EXPECTED_DRAW[4]]);
    expect(drawPage(lottery, 4, 2).receipts).toEqual([]);
    expect(drawPage({ ...lottery, seed: null }, 1, 2)).toMatchObject({ total: 0, receipts: [] });
    expect(() => drawPage(lottery, 0, 2)).toThrow(RangeError);
  });
});

describe('lottery: uniformity', () => {
  /**
   * Chi-square over the 24 orders of 4 receipts in 100,000 draws, with seeds fixed by their index
   * (SHA-256 of "uniformity <i>"), so the statistic is the same on every run. 23 degrees of
   * freedom: the 0.1% critical value is 49.73. A biased order (the same ranking function on the
   * receipt ids alone) is checked to blow past it, so the test has the power to fail.
   */
  const RECEIPT_SET = ['Aa', 'Bb', 'Cc', 'Dd'];
  const DRAWS = 100_000;
  const CRITICAL_0_1_PERCENT_DF23 = 49.73;

  const chiSquare = (orderFor: (seed: string) => string[]): number => {
    const counts = new Map<string, number>();
    for (let i = 0; i < DRAWS; i++) {
      const seed = createHash('sha256').update(`uniformity ${i}`).digest('hex');
      const order = orderFor(seed).join(',');
      counts.set(order, (counts.get(order) ?? 0) + 1);
    }
    const expected = DRAWS / 24;
    let statistic = 0;
    for (const count of counts.values()) statistic += (count - expected) ** 2 / expected;
    // Orders never drawn count too.
    statistic += (24 - counts.size) * expected;
    return statistic;
  };

  it('every order of 4 receipts is equally likely', () => {
    const statistic = chiSquare((seed) => drawOrder(seed, RECEIPT_SET));
    expect(statistic).toBeLessThan(CRITICAL_0_1_PERCENT_DF23);
  });

  it('the statistic catches a biased draw', () => {
    // Biased: a seed decides only whether the list is reversed, so 22 of 24 orders never occur.
    const biased = (seed: string) => (seed < '8' ? [...RECEIPT_SET] : [...RECEIPT_SET].reverse());
    expect(chiSquare(biased)).toBeGreaterThan(CRITICAL_0_1_PERCENT_DF23 * 100);
  });
});

describe('lottery: the WebCrypto snippet in docs/lottery.md', () => {
  it('computes the known-answer places', async () => {
    const docs = readFileSync('docs/lottery.md', 'utf8');
    const snippet = /```js\n([\s\S]*?)```/.exec(docs)?.[1];
    expect(snippet).toBeDefined();
    // The snippet as a reader pastes it; WebCrypto is global in Node 20 as in browsers.
    type MyPlace = (
      seed: string,
      commitment: string,
      receipts: string[],
      mine: string,
    ) => Promise<number>;
    // eslint-disable-next-line @typescript-eslint/no-implied-eval
    const load = new Function(`${snippet ?? ''}\nreturn myPlace;`) as () => MyPlace;
    const myPlace = load();
    for (const [index, receiptId] of EXPECTED_DRAW.entries())
      expect(await myPlace(SEED, COMMITMENT, RECEIPTS, receiptId)).toBe(index + 1);
    expect(await myPlace(SEED, COMMITMENT, RECEIPTS, 'AAAAAAAAAAAAAAAAAAAAAA')).toBe(0);
    await expect(myPlace(SEED, '00'.repeat(32), RECEIPTS, RECEIPTS[0]!)).rejects.toThrow(
      'does not match',
    );
  });
});
