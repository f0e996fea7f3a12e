import { createHash, randomBytes } from 'node:crypto';

/**
 * The verifiable lottery of a room's opening (issue 15 item 5, docs/lottery.md, decision 0050).
 * Pure: no I/O, no clock. Every hash is SHA-256 over the UTF-8 bytes of a text — the seed's hex
 * string, not the 32 bytes it encodes — so anyone can recompute it with `printf %s … | sha256sum`
 * or WebCrypto's `crypto.subtle.digest('SHA-256', new TextEncoder().encode(text))`:
 *
 *   commitment = hex(SHA-256(seed))                  seed: 64 lowercase hex characters
 *   key(r)     = hex(SHA-256(seed + ":" + r))        r: a receipt id, ASCII
 *   draw       = receipt ids by ascending key, equal keys by ascending receipt id
 *
 * Hex digits and receipt-id characters are ASCII, so "ascending" is plain byte order (what
 * JavaScript's `<` on these strings and `LC_ALL=C sort` both do).
 */

/** A seed: 32 bytes from the CSPRNG, as 64 lowercase hex characters. */
export const SEED_PATTERN = /^[0-9a-f]{64}$/;

/** A receipt id: 16 random bytes, base64url without padding (22 characters). */
export const RECEIPT_ID_PATTERN = /^[A-Za-z0-9_-]{22}$/;

const sha256Hex = (text: string): string => createHash('sha256').update(text, 'utf8').digest('hex');

/** A fresh lottery seed: 32 bytes from node:crypto's CSPRNG, hex. Secret until the opening. */
export const newLotterySeed = (): string => randomBytes(32).toString('hex');

/**
 * A fresh public receipt id for a pre-queue entry: 128 random bits, so it cannot be guessed and
 * says nothing about the buyer (never derived from a user id or an arrival number).
 */
export const newReceiptId = (): string => randomBytes(16).toString('base64url');

export const isSeed = (text: string): boolean => SEED_PATTERN.test(text);

export const isReceiptId = (text: string): boolean => RECEIPT_ID_PATTERN.test(text);

/** hex(SHA-256(UTF-8 bytes of the seed's hex string)), published when the opening is scheduled. */
export function commitmentOf(seedHex: string): string {
  if (!isSeed(seedHex)) throw new RangeError('A lottery seed is 64 lowercase hex characters');
  return sha256Hex(seedHex);
}

/** A receipt's draw key: hex(SHA-256(seed + ":" + receiptId)); the lowest key draws place 1. */
export const drawKey = (seedHex: string, receiptId: string): string =>
  sha256Hex(`${seedHex}:${receiptId}`);

/** The draw's order: ascending key, equal keys (never seen in practice) by ascending receipt id. */
export const compareDrawEntries = (
  a: { key: string; receiptId: string },
  b: { key: string; receiptId: string },
): number =>
  a.key < b.key
    ? -1
    : a.key > b.key
      ? 1
      : a.receiptId < b.receiptId
        ? -1
        : a.receiptId > b.receiptId
          ? 1
          : 0;

/**
 * The draw: the receipt ids in place order (index 0 is place 1). The input order does not
 * matter. A receipt id given twice is refused: every pre-queue entry has its own.
 */
export function drawOrder(seedHex: string, receiptIds: Iterable<string>): string[] {
  if (!isSeed(seedHex)) throw new RangeError('A lottery seed is 64 lowercase hex characters');
  const keyed: { key: string; receiptId: string }[] = [];
  const seen = new Set<string>();
  for (const receiptId of receiptIds) {
    if (seen.has(receiptId)) throw new RangeError(`Receipt ${receiptId} is in the draw twice`);
    seen.add(receiptId);
    keyed.push({ key: drawKey(seedHex, receiptId), receiptId });
  }
  return keyed.sort(compareDrawEntries).map((entry) => entry.receiptId);
}

/** A receipt's place in a draw (1 is first), or undefined when it is not in the draw. */
export function placeOf(draw: readonly string[], receiptId: string): number | undefined {
  const index = draw.indexOf(receiptId);
  return index === -1 ? undefined : index + 1;
}

export type DrawVerdict =
  | { ok: true; total: number }
  | { ok: false; reason: 'SEED_MALFORMED'; detail: string }
  | { ok: false; reason: 'COMMITMENT_MISMATCH'; detail: string }
  | { ok: false; reason: 'TOTAL_MISMATCH'; detail: string }
  | { ok: false; reason: 'DUPLICATE_RECEIPT'; detail: string; place: number }
  | { ok: false; reason: 'ORDER_MISMATCH'; detail: string; place: number };

/**
 * Checks a published draw against the commitment published before the opening: the seed hashes
 * to the commitment, no receipt appears twice, the count matches the published total (when
 * given), and every neighbouring pair is in key order — which, with the seed fixed by the
 * commitment, leaves exactly one possible order for this set of receipts.
 */
export function verifyDraw(published: {
  commitment: string;
  seed: string;
  draw: readonly string[];
  total?: number;
}): DrawVerdict {
  const { commitment, seed, draw, total } = published;
  if (!isSeed(seed))
    return { ok: false, reason: 'SEED_MALFORMED', detail: 'the seed is not 64 hex characters' };
  const recomputed = commitmentOf(seed);
  if (recomputed !== commitment.toLowerCase())
    return {
      ok: false,
      reason: 'COMMITMENT_MISMATCH',
      detail: `SHA-256 of the seed is ${recomputed}, the commitment was ${commitment}`,
    };
  if (total !== undefined && total !== draw.length)
    return {
      ok: false,
      reason: 'TOTAL_MISMATCH',
      detail: `the draw lists ${draw.length} receipts, the room published a total of ${total}`,
    };
  const seen = new Set<string>();
  let previous: { key: string; receiptId: string } | undefined;
  for (const [index, receiptId] of draw.entries()) {
    if (seen.has(receiptId))
      return {
        ok: false,
        reason: 'DUPLICATE_RECEIPT',
        detail: `receipt ${receiptId} appears twice (again at place ${index + 1})`,
        place: index + 1,
      };
    seen.add(receiptId);
    const current = { key: drawKey(seed, receiptId), receiptId };
    if (previous && compareDrawEntries(previous, current) > 0)
      return {
        ok: false,
        reason: 'ORDER_MISMATCH',
        detail: `place ${index + 1} (${receiptId}, key ${current.key}) sorts before place ${index} (${previous.receiptId}, key ${previous.key})`,
        place: index + 1,
      };
    previous = current;
  }
  return { ok: true, total: draw.length };
}

/**
 * One page of `GET /api/v1/queue/rooms/{concertId}/draw?page=N` (docs/lottery.md): pages start
 * at 1; page N holds places (N−1)·pageSize+1 … N·pageSize. Before the opening the seed is null
 * and there are no receipts; `total` is the number of pre-queue entries drawn.
 */
export interface DrawPage {
  seed: string | null;
  commitment: string;
  total: number;
  page: number;
  pageSize: number;
  receipts: string[];
}

/** Cuts page `page` (from 1) out of a whole draw. */
export function drawPage(
  lottery: { seed: string | null; commitment: string; draw: readonly string[] },
  page: number,
  pageSize: number,
): DrawPage {
  if (!Number.isSafeInteger(page) || page < 1) throw new RangeError('Pages start at 1');
  if (!Number.isSafeInteger(pageSize) || pageSize < 1) throw new RangeError('pageSize ≥ 1');
  const drawn = lottery.seed === null ? [] : lottery.draw;
  return {
    seed: lottery.seed,
    commitment: lottery.commitment,
    total: drawn.length,
    page,
    pageSize,
    receipts: drawn.slice((page - 1) * pageSize, page * pageSize),
  };
}
