import { afterEach, describe, expect, it, vi } from 'vitest';
import { pickFreeSeat } from '../../bench/lib/seat-bytes.js';

/**
 * A section's seats reply as the server sends it: the envelope, then the seats with their fields
 * in the schema's order and no whitespace (test/api/seat-map-etag.test.ts checks the server's bytes
 * against exactly this layout).
 */
function reply(states: ('free' | 'held' | 'sold')[], section = 'Section 1') {
  const seats = states.map((state, index) => ({
    seatId: 1000 + index,
    seatNumber: index + 1,
    price: 10_000 + index,
    isAvailable: state === 'free',
    state,
    sectionKey: 's1',
    section,
    row: 'R1',
    label: `R1-${index + 1}`,
    priceCategory: 'All',
  }));
  const body = { code: 'SUCCESS', message: 'ok', data: { concertId: 7, sectionKey: 's1', seats } };
  return Buffer.from(JSON.stringify(body));
}

/** A `random` that returns `value` (0 ≤ value < 1). */
const fixed = (value: number) => () => value;

afterEach(() => vi.restoreAllMocks());

describe('pickFreeSeat (the load generator’s pick from a section’s bytes)', () => {
  it('picks each free seat for its share of random values, never a held or sold one', () => {
    const bytes = reply(['held', 'free', 'sold', 'free', 'held', 'free']);
    const picked = [0, 0.34, 0.67, 0.99].map((value) => pickFreeSeat(bytes, fixed(value)));
    expect(picked.map((seat) => seat?.seatId)).toEqual([1001, 1003, 1005, 1005]);
    expect(picked[1]).toMatchObject({ seatId: 1003, price: 10_003, isAvailable: true });
  });

  it('reads the last seat of the list and names in any script (offsets in bytes)', () => {
    const bytes = reply(['sold', 'held', 'free'], '2층 발코니 {east}');
    expect(pickFreeSeat(bytes, fixed(0.5))).toMatchObject({
      seatId: 1002,
      price: 10_002,
      section: '2층 발코니 {east}',
    });
  });

  it('answers undefined when no seat is free, and for an empty section', () => {
    expect(pickFreeSeat(reply(['held', 'sold']))).toBeUndefined();
    expect(pickFreeSeat(reply([]))).toBeUndefined();
  });

  it('parses only the chosen seat, not the whole reply', () => {
    const bytes = reply(Array.from({ length: 1000 }, (_, index) => (index % 3 ? 'free' : 'held')));
    const parse = vi.spyOn(JSON, 'parse');
    expect(pickFreeSeat(bytes, fixed(0.5))?.isAvailable).toBe(true);
    expect(parse).toHaveBeenCalledTimes(1);
    expect(parse.mock.calls[0]![0].length).toBeLessThan(300);
  });

  it('falls back to the whole reply when its layout is not the expected one', () => {
    const seats = [{ isAvailable: true, seatId: 5, price: 1 }];
    const spaced = Buffer.from(JSON.stringify({ data: { seats } }, null, 2));
    expect(pickFreeSeat(spaced)).toEqual(seats[0]);
  });
});
