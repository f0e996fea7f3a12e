import type { Data } from './http.js';

/** One page of a room's opening draw (GET /api/v1/queue/rooms/{concertId}/draw?page=N). */
export type DrawPage = Data<'/api/v1/queue/rooms/{concertId}/draw', 'get'>;

/**
 * What "check the draw" found, from public data alone (docs/lottery.md):
 * - `not-drawn`: no seed yet; the commitment is shown (and noted by the page) to compare later;
 * - `no-crypto`: this page has no WebCrypto (not a secure context: plain HTTP by address);
 * - `changed`: the commitment differs from the one this page noted before the opening;
 * - `bad-seed`: SHA-256(seed) is not the commitment;
 * - `bad-order`: the published order is not the order of the draw keys (`at`: the first place out);
 * - `missing`: the buyer's receipt is not in the draw;
 * - `verified`: seed and order check out; `place` is the buyer's place in the draw, `told` the
 *   first place in line the page was told after the opening (undefined: never told one).
 */
export type DrawCheck =
  | { kind: 'not-drawn'; commitment: string | null }
  | { kind: 'no-crypto' }
  | { kind: 'changed'; noted: string; commitment: string | null }
  | { kind: 'bad-seed' }
  | { kind: 'bad-order'; at: number }
  | { kind: 'missing'; total: number }
  | { kind: 'verified'; place: number; total: number; told?: number };

const encoder = new TextEncoder();

/** WebCrypto: undefined outside a secure context (plain HTTP by address), whatever the types say. */
type Subtle = typeof globalThis.crypto.subtle;
const subtle = (): Subtle | undefined =>
  (globalThis.crypto as { subtle?: Subtle } | undefined)?.subtle;

async function sha256Hex(text: string): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', encoder.encode(text)));
  let hex = '';
  for (const byte of digest) hex += byte.toString(16).padStart(2, '0');
  return hex;
}

/** Place order: ascending draw key, the lower receipt id first on equal keys (docs/lottery.md). */
const before = (a: [string, string], b: [string, string]): boolean =>
  a[0] < b[0] || (a[0] === b[0] && a[1] < b[1]);

/**
 * Checks the draw in the browser: reads every page, checks SHA-256(seed) = commitment (and the
 * commitment against the one noted before the opening), recomputes each receipt's key and checks
 * the published order is ascending, and finds the buyer's receipt. The order check is pairwise,
 * so the buyer's place in the published list is also its place in the recomputed order.
 */
export async function checkDraw(
  page: (n: number) => Promise<DrawPage>,
  receiptId: string,
  noted?: string,
  told?: number,
): Promise<DrawCheck> {
  const first = await page(1);
  if (noted !== undefined && first.commitment !== noted)
    return { kind: 'changed', noted, commitment: first.commitment };
  if (first.seed === null) return { kind: 'not-drawn', commitment: first.commitment };
  if (!subtle()) return { kind: 'no-crypto' };
  const seed = first.seed;
  if ((await sha256Hex(seed)) !== first.commitment) return { kind: 'bad-seed' };
  let previous: [string, string] | undefined;
  let place = 0;
  let seen = 0;
  for (let n = 1, current = first; ; current = await page(++n)) {
    // Every page must come from the same draw.
    if (current.seed !== seed || current.total !== first.total) return { kind: 'bad-seed' };
    const keys = await Promise.all(current.receipts.map((id) => sha256Hex(`${seed}:${id}`)));
    for (const [i, id] of current.receipts.entries()) {
      const keyed: [string, string] = [keys[i] ?? '', id];
      seen += 1;
      if (previous && !before(previous, keyed)) return { kind: 'bad-order', at: seen };
      if (id === receiptId) place = seen;
      previous = keyed;
    }
    if (current.receipts.length === 0 || seen >= first.total) break;
  }
  if (seen !== first.total) return { kind: 'bad-order', at: seen + 1 };
  if (place === 0) return { kind: 'missing', total: seen };
  return { kind: 'verified', place, total: seen, ...(told === undefined ? {} : { told }) };
}
