import { describe, expect, it } from 'vitest';
import { checkDraw, type DrawPage } from '../../web/src/draw.js';
import {
  commitmentOf,
  drawOrder,
  newLotterySeed,
  newReceiptId,
} from '../../src/modules/queue/queue.lottery.js';

/*
 * The buyers' page's "check the draw" (web/src/draw.ts, WebCrypto — Node's here), against the
 * known answers of docs/lottery.md (computed with sha256sum and OpenSSL, test/unit/queue.lottery)
 * and against the server's own draw; and each way a published draw can be wrong is caught.
 */
const SEED = '000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f';
const COMMITMENT = '6c86c6aac5fb24bcf5d9939cb7d7d5645ce39418f449e03b262dd4fa14b4b92b';
/** `LC_ALL=C sort` of the known draw keys, receipt column (test/unit/queue.lottery.test.ts). */
const DRAW = [
  'bZfJa0KzfKA667InYcDzPQ',
  '5qB-jSqh9RGyqwmqCjB86A',
  'mssLEtyccAMurTSKzd6_sA',
  'rauKIhEa8chlZ92pG-tBpw',
  '-FX1lVHx936X_BebLLWHDA',
];

/** The draw served in pages of `size`, as GET …/draw?page=N answers; the pages asked are kept. */
function served(
  receipts: string[],
  size: number,
  seed: string | null = SEED,
  commitment = COMMITMENT,
) {
  const asked: number[] = [];
  const page = (n: number): Promise<DrawPage> => {
    asked.push(n);
    return Promise.resolve({
      concertId: 12,
      seed,
      commitment,
      total: seed === null ? 0 : receipts.length,
      page: n,
      pageSize: size,
      receipts: seed === null ? [] : receipts.slice((n - 1) * size, n * size),
    });
  };
  return { page, asked };
}

describe('checking the draw in the page', () => {
  it('verifies the known draw and finds each place, reading every page once', async () => {
    for (const [i, receipt] of DRAW.entries()) {
      const { page, asked } = served(DRAW, 2);
      expect(await checkDraw(page, receipt, COMMITMENT, i + 1)).toEqual({
        kind: 'verified',
        place: i + 1,
        total: 5,
        told: i + 1,
      });
      expect(asked).toEqual([1, 2, 3]);
    }
  });

  it("verifies the server's own draw of 2,500 random receipts over three pages", async () => {
    const seed = newLotterySeed();
    const commitment = commitmentOf(seed);
    const order = drawOrder(
      seed,
      Array.from({ length: 2_500 }, () => newReceiptId()),
    );
    const { page, asked } = served(order, 1_000, seed, commitment);
    const check = await checkDraw(page, order[1_234] ?? '');
    expect(check).toEqual({ kind: 'verified', place: 1_235, total: 2_500 });
    expect(asked).toEqual([1, 2, 3]);
  });

  it('says not drawn before the opening, with the commitment to note', async () => {
    const { page } = served(DRAW, 1_000, null);
    expect(await checkDraw(page, DRAW[0] ?? '')).toEqual({
      kind: 'not-drawn',
      commitment: COMMITMENT,
    });
  });

  it('refuses a seed that is not the commitment’s, and a commitment changed since noted', async () => {
    const otherSeed = SEED.replace(/^00/, '01');
    expect(await checkDraw(served(DRAW, 1_000, otherSeed).page, DRAW[0] ?? '')).toEqual({
      kind: 'bad-seed',
    });
    const noted = 'f'.repeat(64);
    expect(await checkDraw(served(DRAW, 1_000).page, DRAW[0] ?? '', noted)).toEqual({
      kind: 'changed',
      noted,
      commitment: COMMITMENT,
    });
  });

  it('refuses an order that is not the draw’s, a short draw, and says when a receipt is missing', async () => {
    const swapped = [DRAW[0], DRAW[2], DRAW[1], DRAW[3], DRAW[4]] as string[];
    expect(await checkDraw(served(swapped, 2).page, DRAW[4] ?? '')).toEqual({
      kind: 'bad-order',
      at: 3,
    });
    // Pages that stop before `total` receipts.
    const short = served(DRAW, 2);
    const truncated = async (n: number) => ({
      ...(await short.page(n)),
      receipts: n > 1 ? [] : DRAW.slice(0, 2),
    });
    expect(await checkDraw(truncated, DRAW[0] ?? '')).toEqual({ kind: 'bad-order', at: 3 });
    expect(await checkDraw(served(DRAW, 2).page, 'AAAAAAAAAAAAAAAAAAAAAA')).toEqual({
      kind: 'missing',
      total: 5,
    });
  });
});
