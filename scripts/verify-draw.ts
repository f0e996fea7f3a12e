/**
 * Checks a room's lottery from public data alone and prints a buyer's place (docs/lottery.md):
 *
 *   npx tsx scripts/verify-draw.ts --room-url http://host/api/v1/queue/rooms/12 --receipt <id>
 *   npx tsx scripts/verify-draw.ts --room-file room.json --draw-file draw.json --receipt <id>
 *
 * --commitment <hex> checks against the commitment you noted before the opening (the strongest
 * check: the room's current view could be rewritten, your note cannot). --draw-file holds one
 * draw page, an array of pages, or { seed, commitment, total, receipts } with every receipt.
 * Exit status: 0 verified, 1 the draw does not verify, 2 bad usage or unreadable data,
 * 3 not drawn yet (the commitment is printed: note it).
 */
import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { isSeed, placeOf, verifyDraw, type DrawPage } from '../src/modules/queue/queue.lottery.js';

class UsageError extends Error {}

interface Published {
  commitment: string;
  seed: string | null;
  total: number;
  receipts: string[];
}

const asRecord = (value: unknown, what: string): Record<string, unknown> => {
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw new UsageError(`${what} is not a JSON object`);
  return value as Record<string, unknown>;
};

/** The room view's lottery fields, at its top level or under `lottery`. */
function roomLottery(view: unknown): { commitment: string; seed: string | null } {
  const room = asRecord(view, 'The room view');
  const lottery = typeof room.lottery === 'object' && room.lottery !== null ? room.lottery : room;
  const { commitment, seed } = asRecord(lottery, 'The room’s lottery');
  if (typeof commitment !== 'string')
    throw new UsageError('The room publishes no lottery commitment (no scheduled opening?)');
  if (seed !== null && seed !== undefined && typeof seed !== 'string')
    throw new UsageError('The room’s seed is neither a string nor null');
  return { commitment, seed: seed ?? null };
}

function asPage(value: unknown): DrawPage {
  const page = asRecord(value, 'A draw page');
  const { seed, commitment, total, receipts } = page;
  if (
    typeof commitment !== 'string' ||
    (seed !== null && typeof seed !== 'string') ||
    typeof total !== 'number' ||
    !Array.isArray(receipts) ||
    !receipts.every((receipt) => typeof receipt === 'string')
  )
    throw new UsageError('A draw page lacks seed, commitment, total or receipts');
  return {
    seed,
    commitment,
    total,
    page: typeof page.page === 'number' ? page.page : 1,
    pageSize: typeof page.pageSize === 'number' ? page.pageSize : receipts.length,
    receipts,
  };
}

/** Joins pages into one draw; every page must carry the same seed, commitment and total. */
function joinPages(pages: DrawPage[]): Published {
  const first = pages[0];
  if (!first) throw new UsageError('No draw page');
  for (const page of pages)
    if (
      page.seed !== first.seed ||
      page.commitment !== first.commitment ||
      page.total !== first.total
    )
      throw new UsageError(`Page ${page.page} names another seed, commitment or total`);
  const sorted = [...pages].sort((a, b) => a.page - b.page);
  return { ...first, receipts: sorted.flatMap((page) => page.receipts) };
}

/** The API's replies come in its envelope {code, message, data}: the data (a bare body as is). */
function unwrap(body: unknown): unknown {
  if (typeof body === 'object' && body !== null && 'data' in body && 'code' in body)
    return (body as { data: unknown }).data;
  return body;
}

async function getJson(url: string): Promise<unknown> {
  const response = await fetch(url, { headers: { accept: 'application/json' } });
  if (!response.ok) throw new UsageError(`GET ${url} answered ${response.status}`);
  return unwrap(await response.json());
}

async function fetchDraw(roomUrl: string): Promise<Published> {
  const pages: DrawPage[] = [];
  let fetched = 0;
  for (let page = 1; ; page++) {
    const current = asPage(await getJson(`${roomUrl.replace(/\/$/, '')}/draw?page=${page}`));
    // A page that is not the one asked for would let a server loop the script forever.
    if (current.page !== page) throw new UsageError(`Asked for page ${page}, got ${current.page}`);
    pages.push(current);
    fetched += current.receipts.length;
    if (current.seed === null || fetched >= current.total || current.receipts.length === 0) break;
  }
  return joinPages(pages);
}

const readJson = async (path: string): Promise<unknown> =>
  unwrap(JSON.parse(await readFile(path, 'utf8')) as unknown);

const OPTIONS = {
  'room-url': { type: 'string' },
  'room-file': { type: 'string' },
  'draw-file': { type: 'string' },
  receipt: { type: 'string' },
  commitment: { type: 'string' },
} as const;

/**
 * `--name value` as `--name=value`: a receipt id is base64url and starts with '-' one time in 64,
 * which parseArgs would otherwise take for an option ("argument is ambiguous").
 */
function valuesJoined(argv: readonly string[]): string[] {
  const joined: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const [arg, next] = [argv[i] ?? '', argv[i + 1]];
    if (arg.startsWith('--') && arg.slice(2) in OPTIONS && next !== undefined) {
      joined.push(`${arg}=${next}`);
      i++;
    } else joined.push(arg);
  }
  return joined;
}

async function main(argv: string[], print: (line: string) => void): Promise<number> {
  const { values } = parseArgs({ args: valuesJoined(argv), options: OPTIONS });
  const online = values['room-url'];
  if ((online === undefined) === (values['draw-file'] === undefined))
    throw new UsageError(
      'Give either --room-url, or --draw-file (with --room-file if you have it)',
    );
  const room = online
    ? roomLottery(await getJson(online))
    : values['room-file']
      ? roomLottery(await readJson(values['room-file']))
      : undefined;
  // A room file may well be the view saved before the opening (seed null): it gives the commitment.
  if (online && room?.seed === null) {
    print(`Not drawn yet. Note the commitment now, and check it after the opening:`);
    print(`  commitment ${room.commitment}`);
    return 3;
  }
  let draw: Published;
  if (online) draw = await fetchDraw(online);
  else {
    const saved = await readJson(values['draw-file'] ?? '');
    draw = Array.isArray(saved) ? joinPages(saved.map(asPage)) : joinPages([asPage(saved)]);
  }
  if (draw.seed === null || !isSeed(draw.seed)) {
    print('The draw publishes no valid seed yet.');
    return 3;
  }
  // The commitment to check against: yours from before the opening, else the room's, else the
  // draw's own — and all of those given must agree.
  const commitments = [values.commitment, room?.commitment, draw.commitment].filter(
    (value): value is string => value !== undefined,
  );
  const commitment = commitments[0] ?? draw.commitment;
  for (const other of commitments)
    if (other.toLowerCase() !== commitment.toLowerCase()) {
      print(`FAILED: the commitments differ (${commitment} and ${other})`);
      return 1;
    }
  const verdict = verifyDraw({
    commitment,
    seed: draw.seed,
    draw: draw.receipts,
    total: draw.total,
  });
  if (!verdict.ok) {
    print(`FAILED (${verdict.reason}): ${verdict.detail}`);
    return 1;
  }
  print(`seed        ${draw.seed}`);
  print(`commitment  ${commitment} = SHA-256(seed) ✓`);
  print(`draw        ${verdict.total} receipts in ascending SHA-256(seed + ":" + receipt) ✓`);
  if (values.receipt !== undefined) {
    const place = placeOf(draw.receipts, values.receipt);
    if (place === undefined) {
      print(`receipt     ${values.receipt} is NOT in the draw`);
      return 1;
    }
    print(`receipt     ${values.receipt}: place ${place} of ${verdict.total}`);
  }
  return 0;
}

main(process.argv.slice(2), (line) => process.stdout.write(`${line}\n`)).then(
  (code) => (process.exitCode = code),
  (error: unknown) => {
    process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 2;
  },
);
