import { describe, expect, it } from 'vitest';
import {
  createSaleListing,
  MAX_LISTED,
  type ListedConcert,
} from '../../src/modules/rooms/rooms.listing.js';

const concert = (concertId: number): ListedConcert => ({
  concertId,
  concertTitle: `Concert ${concertId}`,
  concertVenue: 'Hall',
  concertDateTime: '2027-01-01T00:00:00.000Z',
  priceMin: 1,
  priceMax: 2,
  sale: 'on-sale',
  opensAt: null,
  preQueueOpensAt: null,
  hasRoom: false,
  roomState: null,
  seatsLeft: 1,
  soldOut: false,
});

describe('the public concert list cache (decision 0064)', () => {
  it('reads once per period for every reader and page, bounded, and forgets a failed read', async () => {
    let clock = 0;
    const limits: number[] = [];
    let fail = false;
    const listing = createSaleListing({
      cacheMs: 1_000,
      now: () => clock,
      read: (limit) => {
        limits.push(limit);
        return fail ? Promise.reject(new Error('down')) : Promise.resolve([1, 2, 3].map(concert));
      },
    });
    const pages = await Promise.all([listing.page(1, 2), listing.page(2, 2), listing.page(3, 2)]);
    expect(pages.map((page) => page.concerts.map((c) => c.concertId))).toEqual([[1, 2], [3], []]);
    expect(pages.map((page) => page.total)).toEqual([3, 3, 3]);
    clock = 999;
    await listing.page(1, 20);
    expect(limits).toEqual([MAX_LISTED]);
    clock = 1_000;
    fail = true;
    await expect(listing.page(1, 20)).rejects.toThrow('down');
    fail = false;
    // The failure is not served for the rest of the period: the next reader reads again.
    expect((await listing.page(1, 20)).total).toBe(3);
    expect(limits.length).toBe(3);
  });
});
