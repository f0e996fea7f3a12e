import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  commitmentOf,
  drawOrder,
  drawPage,
  newLotterySeed,
  newReceiptId,
  placeOf,
} from '../../src/modules/queue/queue.lottery.js';
import { runCommand } from '../support/command.js';

const SCRIPT = 'scripts/verify-draw.ts';
const PAGE_SIZE = 1000;
const RECEIPTS = 2_500;

/**
 * A room as the server will publish it (docs/lottery.md), made by the lottery library itself and
 * served over real HTTP by node:http: the script runs as `npx tsx` would run it, against the
 * public room view and the paged draw. `tamper` rewrites a page on its way out, as a dishonest
 * operator could.
 */
interface PublishedRoom {
  seed: string;
  commitment: string;
  draw: string[];
  opened: boolean;
  tamper?: (page: ReturnType<typeof drawPage>) => ReturnType<typeof drawPage>;
}

describe('scripts/verify-draw.ts against a room over HTTP', () => {
  const receipts = Array.from({ length: RECEIPTS }, newReceiptId);
  const seed = newLotterySeed();
  const room: PublishedRoom = {
    seed,
    commitment: commitmentOf(seed),
    draw: drawOrder(seed, receipts),
    opened: true,
  };
  let server: Server;
  let roomUrl: string;
  let folder: string;
  const requested: string[] = [];

  beforeAll(async () => {
    server = createServer((request, response) => {
      const url = new URL(request.url ?? '/', 'http://localhost');
      requested.push(`${url.pathname}${url.search}`);
      const seedNow = room.opened ? room.seed : null;
      let body: unknown;
      if (url.pathname === '/api/v1/queue/rooms/12')
        body = { concertId: 12, state: 'open', commitment: room.commitment, seed: seedNow };
      else if (url.pathname === '/api/v1/queue/rooms/12/draw') {
        const page = drawPage(
          { seed: seedNow, commitment: room.commitment, draw: room.draw },
          Number(url.searchParams.get('page') ?? '1'),
          PAGE_SIZE,
        );
        body = room.tamper ? room.tamper(page) : page;
      } else {
        response.writeHead(404).end();
        return;
      }
      response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    roomUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/api/v1/queue/rooms/12`;
    folder = await mkdtemp(join(tmpdir(), 'verify-draw-'));
  });
  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve));
    await rm(folder, { recursive: true, force: true });
  });

  const verify = (...args: string[]) => runCommand(SCRIPT, args);

  it('verifies an honest draw page by page and prints the buyer’s place', async () => {
    const mine = receipts[1234]!;
    requested.length = 0;
    const result = await verify('--room-url', roomUrl, '--receipt', mine);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.stdout).toContain(`${mine}: place ${placeOf(room.draw, mine)} of ${RECEIPTS}`);
    expect(result.stdout).toContain(`commitment  ${room.commitment}`);
    // The room view, then all three pages of the draw.
    expect(requested).toEqual([
      '/api/v1/queue/rooms/12',
      '/api/v1/queue/rooms/12/draw?page=1',
      '/api/v1/queue/rooms/12/draw?page=2',
      '/api/v1/queue/rooms/12/draw?page=3',
    ]);
  });

  it('before the opening, prints the commitment to note and exits 3', async () => {
    room.opened = false;
    try {
      const result = await verify('--room-url', roomUrl, '--receipt', receipts[0]!);
      expect(result.code).toBe(3);
      expect(result.stdout).toContain(`commitment ${room.commitment}`);
    } finally {
      room.opened = true;
    }
  });

  it('fails on two places swapped on the second page', async () => {
    room.tamper = (page) => {
      if (page.page !== 2) return page;
      const swapped = [...page.receipts];
      [swapped[10], swapped[11]] = [swapped[11]!, swapped[10]!];
      return { ...page, receipts: swapped };
    };
    try {
      const result = await verify('--room-url', roomUrl);
      expect(result.code).toBe(1);
      expect(result.stdout).toMatch(/FAILED \(ORDER_MISMATCH\): place 1012 /);
    } finally {
      delete room.tamper;
    }
  });

  it('fails when the seed was swapped after the commitment the buyer noted', async () => {
    // The operator re-draws with another seed and publishes that seed's commitment everywhere;
    // only the commitment noted before the opening exposes it.
    const noted = room.commitment;
    const other = newLotterySeed();
    Object.assign(room, { seed: other, commitment: commitmentOf(other) });
    room.draw = drawOrder(other, receipts);
    try {
      const result = await verify('--room-url', roomUrl, '--commitment', noted);
      expect(result.code).toBe(1);
      expect(result.stdout).toContain('FAILED: the commitments differ');
      expect((await verify('--room-url', roomUrl)).code).toBe(0);
    } finally {
      Object.assign(room, {
        seed,
        commitment: commitmentOf(seed),
        draw: drawOrder(seed, receipts),
      });
    }
  });

  it('fails on a receipt slipped into the draw after the total was published', async () => {
    const intruder = newReceiptId();
    room.tamper = (page) =>
      page.page === 3 ? { ...page, receipts: [...page.receipts, intruder] } : page;
    try {
      const result = await verify('--room-url', roomUrl, '--receipt', intruder);
      expect(result.code).toBe(1);
      expect(result.stdout).toContain('FAILED (TOTAL_MISMATCH)');
    } finally {
      delete room.tamper;
    }
  });

  it('verifies from saved files (the room view from before the opening, the pages after)', async () => {
    const pages = [1, 2, 3].map((page) => drawPage(room, page, PAGE_SIZE));
    await writeFile(
      join(folder, 'room.json'),
      JSON.stringify({ commitment: room.commitment, seed: null }),
    );
    await writeFile(join(folder, 'draw.json'), JSON.stringify(pages));
    const mine = room.draw[0]!;
    const args = [
      '--room-file',
      join(folder, 'room.json'),
      '--draw-file',
      join(folder, 'draw.json'),
    ];
    const result = await verify(...args, '--receipt', mine);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toContain(`${mine}: place 1 of ${RECEIPTS}`);
    // A receipt that is not there is not given a place. This one starts with '-' (one base64url
    // receipt in 64 does): read as the option's value, not as an option.
    const stranger = await verify(...args, '--receipt', `-${newReceiptId().slice(1)}`);
    expect(stranger.code).toBe(1);
    expect(stranger.stdout).toContain('is NOT in the draw');
  });

  it('refuses to guess what to read (exit 2)', async () => {
    const result = await verify('--receipt', `-${receipts[0]!.slice(1)}`);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('Give either --room-url, or --draw-file');
  });
});
