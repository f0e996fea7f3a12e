import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { startTestServer } from '../support/server.js';

const read = (path: string) => readFileSync(new URL(`../../${path}`, import.meta.url), 'utf8');

/** What the README and docs/contract.md tell a newcomer, checked against the running service. */
describe('README and docs/contract.md claims', () => {
  it('hold on the embedded in-memory database: demo data, global seat ids, a seat map with every seat', async () => {
    // PGLITE_IN_MEMORY=true, the demo data left on (the default), all of it.
    const server = await startTestServer(undefined, {
      SEED_DEMO_DATA: 'true',
      SEED_DEMO_CATALOGUE: 'true',
    });
    try {
      const { client } = server;
      const buyer = await client.activeToken(1);
      const concerts = (await client.concerts(buyer)).data;
      // The five simple demo concerts, ids 1–5, then three on the demo's venues.
      expect(concerts.map((concert) => concert.concertId).sort()).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
      // Seat ids are global: concert 2's seats are 51–100, numbered 1–50.
      const seats = (await client.seats(buyer, 2)).data.availableSeats;
      expect(seats.map((seat) => seat.seatId)).toEqual(
        Array.from({ length: 50 }, (_, i) => 51 + i),
      );
      expect(seats.map((seat) => seat.seatNumber)).toEqual(
        Array.from({ length: 50 }, (_, i) => 1 + i),
      );
      // availableSeats lists held and sold seats too, marked unavailable.
      await client.charge(1, seats[0]!.price);
      expect((await client.hold(buyer, 2, 51)).status).toBe(201);
      expect((await client.pay(buyer, 51)).status).toBe(201);
      const other = await client.activeToken(2);
      expect((await client.hold(other, 2, 52)).status).toBe(201);
      const map = (await client.seats(other, 2)).data.availableSeats;
      expect(map).toHaveLength(50);
      expect(map.slice(0, 3).map((seat) => [seat.seatId, seat.isAvailable])).toEqual([
        [51, false],
        [52, false],
        [53, true],
      ]);
    } finally {
      await server.close();
    }
  });

  it('describe the seed contract inside the repository, and only operations the service documents', async () => {
    const readme = read('README.md');
    expect(readme).not.toContain('../shared');
    expect(readme).toContain('(docs/contract.md)');
    const operations = [...read('docs/contract.md').matchAll(/^\| (GET|POST) (\/\S+) \|/gm)].map(
      ([, method, path]) => [method?.toLowerCase() ?? '', path ?? ''] as const,
    );
    expect(operations).toHaveLength(9);
    const server = await startTestServer(undefined, { SEED_DEMO_DATA: 'false' });
    try {
      const document = (await (await fetch(`${server.url}/openapi.json`)).json()) as {
        paths: Record<string, Record<string, unknown>>;
      };
      for (const [method, path] of operations)
        expect(document.paths[path]?.[method], `${method} ${path}`).toBeDefined();
    } finally {
      await server.close();
    }
  });
});
