/**
 * Measures the web client (issue 16 item 13; the figures are in docs/web.md):
 *
 *   npm run measure:web -- [--pages 1000] [--seconds 30] [--loads 7] [--chromium /usr/bin/chromium]
 *
 * 1. Bundle sizes: what each page (buyers' `/`, operators' `/operator/`) loads first, raw and
 *    gzip (level 9), after building web/dist if a source is newer.
 * 2. Time to first render of the waiting room: a returning buyer (identity and a house-line
 *    token in localStorage, as after a first visit's join) opens `/` while the line is full; milliseconds from navigation to the
 *    waiting room's status on screen, median of `--loads` loads in a new browser context each
 *    (nothing cached) and of as many reloads in one context (assets cached).
 * 3. The server's cost of the seat map's updates: `--pages` buyers admitted (ACTIVE) with one
 *    concert's seat map open, each reading the sections and its section's seats every 2 s as
 *    web/src/main.ts does, from a child process (scripts/measure-web.pages.ts), for `--seconds`.
 *    Twice in one run, each on a fresh server process: `polling` (SEAT_MAP_CACHE_MS=0: every read
 *    queries, no ETag — the server before decision 0061) and `cached` (the default: one shared
 *    snapshot per second and an ETag, pages revalidating with If-None-Match as the browser's
 *    cache does). Server CPU is the process's user+system time over the window.
 *
 * The service runs from source (tsx) on the machine's PostgreSQL (BENCH_POSTGRES_URL), in a
 * database of its own (overture_bench_web, dropped at the end), rate limits off (every page comes
 * from 127.0.0.1). Prints one JSON line per figure, with the load average before and after.
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { gzipSync } from 'node:zlib';
import { Api } from '../bench/lib/http.js';
import { processCpuSeconds } from '../bench/lib/machine.js';
import {
  dropDatabase,
  openPool,
  recreateDatabase,
  transactionCount,
} from '../bench/lib/postgres.js';
import { killAllChildren, projectRoot, startOverture, trackChild } from '../bench/lib/server.js';
import { chromiumPath, launchChromium } from '../test/support/chromium.js';
import { buildWebClient } from './build-web.js';
import type { Plan } from './measure-web.pages.js';

const { values } = parseArgs({
  options: {
    pages: { type: 'string', default: '1000' },
    seconds: { type: 'string', default: '30' },
    loads: { type: 'string', default: '7' },
    chromium: { type: 'string', default: chromiumPath },
  },
});
const PAGES = Number(values.pages);
const SEAT_REFRESH_MS = 2_000; // web/src/main.ts
const FIRST_PAGE_USER = 500_001;
const BROWSER_USER = 800_001;
const DATABASE = 'overture_bench_web';
const IDLE_SECONDS = 5;
const print = (figure: Record<string, unknown>) =>
  process.stdout.write(`${JSON.stringify(figure)}\n`);
const median = (samples: number[]) =>
  Math.round([...samples].sort((a, b) => a - b)[Math.floor(samples.length / 2)] ?? 0);

function bundleSizes(): void {
  const dist = join(projectRoot, 'web', 'dist');
  for (const [page, html] of [
    ['buyers', 'index.html'],
    ['operator', 'operator/index.html'],
  ] as const) {
    const text = readFileSync(join(dist, html), 'utf8');
    const files = [
      html,
      ...[...text.matchAll(/(?:src|href)="([^"]+\.(?:js|css))"/g)].map((match) =>
        join(dirname(html), match[1] ?? ''),
      ),
    ];
    const sizes = files.map((file) => {
      const bytes = readFileSync(join(dist, file));
      return { file, bytes: bytes.length, gzip: gzipSync(bytes, { level: 9 }).length };
    });
    const total = (key: 'bytes' | 'gzip') => sizes.reduce((sum, size) => sum + size[key], 0);
    print({ what: 'bundle', page, bytes: total('bytes'), gzip: total('gzip'), files: sizes });
  }
}

/** Joins every user into the house line and waits until all are ACTIVE; their tokens. */
async function admit(api: Api, users: number[]): Promise<{ userId: number; token: string }[]> {
  const joined = await Promise.all(
    users.map(async (userId) => ({ userId, token: (await api.join(userId)).token })),
  );
  const deadline = Date.now() + 60_000;
  for (;;) {
    const statuses = await Promise.all(joined.map(({ token }) => api.status(token)));
    if (statuses.every((status) => status.status === 'ACTIVE')) return joined;
    if (Date.now() > deadline) throw new Error('the pages were not all admitted within 60 s');
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

/** The demo's concert on sale on a venue (the page reads its sections, then the first one's seats). */
async function seatMapPaths(api: Api, token: string): Promise<string[]> {
  const concerts = (await api.concerts(token)).body.data;
  for (const concert of concerts.filter((candidate) => candidate.isAvailable)) {
    const sections = (await api.sections(token, concert.concertId)).body.data.sections;
    const base = `/api/v1/reservations/concerts/${concert.concertId}`;
    if (sections[0] !== undefined)
      return [
        `${base}/sections`,
        `${base}/sections/${encodeURIComponent(sections[0].sectionKey)}/seats`,
      ];
  }
  throw new Error('no concert on sale has sections (is the demo catalogue loaded?)');
}

/** Navigation to the waiting room's status on screen, in ms: `loads` cold loads, then reloads. */
async function waitingRoomRender(url: string, loads: number): Promise<void> {
  const browser = await launchChromium(values.chromium);
  const identity = JSON.stringify({ kind: 'client', userId: BROWSER_USER });
  // Runs before the page's script: remembers when the status first appears. A buyer already in
  // the house line (a token remembered) joins it again on load; without one the page would show
  // the public list instead (decision 0064).
  const watch = `localStorage.setItem('overture.identity', ${JSON.stringify(identity)});
    localStorage.setItem('overture.queue.${BROWSER_USER}', 'remembered');
    new MutationObserver((_, observer) => {
      if (document.querySelector('[data-testid="queue-status"]')) {
        window.__waitingRoomAt = performance.now();
        observer.disconnect();
      }
    }).observe(document, { childList: true, subtree: true });`;
  const timings = async (page: import('playwright-core').Page) => {
    await page.waitForSelector('[data-testid="queue-status"]', { timeout: 30_000 });
    return page.evaluate(() => ({
      waitingRoom: (globalThis as unknown as { __waitingRoomAt: number }).__waitingRoomAt,
      firstContentfulPaint:
        performance.getEntriesByName('first-contentful-paint')[0]?.startTime ?? 0,
    }));
  };
  try {
    const cold = [];
    for (let i = 0; i < loads; i++) {
      const context = await browser.newContext();
      await context.addInitScript(watch);
      const page = await context.newPage();
      await page.goto(url);
      cold.push(await timings(page));
      await context.close();
    }
    const context = await browser.newContext();
    await context.addInitScript(watch);
    const page = await context.newPage();
    await page.goto(url);
    await timings(page);
    const warm = [];
    for (let i = 0; i < loads; i++) {
      await page.reload();
      warm.push(await timings(page));
    }
    for (const [cache, samples] of [
      ['empty', cold],
      ['warm', warm],
    ] as const)
      print({
        what: 'waiting room first render',
        cache,
        loads,
        medianMs: median(samples.map((sample) => sample.waitingRoom)),
        firstContentfulPaintMedianMs: median(samples.map((sample) => sample.firstContentfulPaint)),
        samplesMs: samples.map((sample) => Math.round(sample.waitingRoom)),
        chromium: browser.version(),
      });
  } finally {
    await browser.close();
  }
}

/** CPU seconds of each PostgreSQL backend serving the measured database (the server's pool). */
async function backendsCpu(admin: ReturnType<typeof openPool>): Promise<Map<number, number>> {
  const { rows } = await admin.query<{ pid: number }>(
    `SELECT pid FROM pg_stat_activity WHERE datname = $1`,
    [DATABASE],
  );
  return new Map(rows.map(({ pid }) => [pid, processCpuSeconds(pid) ?? 0]));
}

/** The pages' load from a child process; resolves with its figures and the server's CPU. */
async function seatMapLoad(
  server: { cpuSeconds(): number | undefined },
  plan: Plan,
  admin: ReturnType<typeof openPool>,
): Promise<Record<string, unknown>> {
  // The server's own loops (admission, rooms, outbox) cost something with no page open.
  const idleStart = server.cpuSeconds() ?? 0;
  await new Promise((resolve) => setTimeout(resolve, IDLE_SECONDS * 1000));
  const idlePercent =
    Math.round((((server.cpuSeconds() ?? 0) - idleStart) / IDLE_SECONDS) * 1000) / 10;
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', 'scripts/measure-web.pages.ts', JSON.stringify(plan)],
    { cwd: projectRoot, stdio: ['ignore', 'pipe', 'inherit'] },
  );
  trackChild(child);
  let cpuAtStart = 0;
  let databaseCpuAtStart = new Map<number, number>();
  let transactionsAtStart = 0;
  let startedAt = 0;
  for await (const line of createInterface({ input: child.stdout })) {
    const report = JSON.parse(line) as { phase: string } & Record<string, unknown>;
    if (report.phase === 'measuring') {
      cpuAtStart = server.cpuSeconds() ?? 0;
      databaseCpuAtStart = await backendsCpu(admin);
      transactionsAtStart = await transactionCount(admin, DATABASE);
      startedAt = performance.now();
    } else {
      const wall = (performance.now() - startedAt) / 1000;
      const cpu = (server.cpuSeconds() ?? 0) - cpuAtStart;
      let databaseCpu = 0;
      for (const [pid, seconds] of await backendsCpu(admin))
        databaseCpu += seconds - (databaseCpuAtStart.get(pid) ?? 0);
      const transactions = (await transactionCount(admin, DATABASE)) - transactionsAtStart;
      const figures: Record<string, unknown> = { ...report };
      delete figures.phase;
      return {
        ...figures,
        serverCpuPercentOfOneCore: Math.round((cpu / wall) * 1000) / 10,
        serverIdleCpuPercentOfOneCore: idlePercent,
        databaseCpuPercentOfOneCore: Math.round((databaseCpu / wall) * 1000) / 10,
        serverCpuMsPerRequest:
          Math.round(((cpu * 1000) / Math.max(1, Number(report.requests))) * 100) / 100,
        databaseTransactionsPerSecond: Math.round(transactions / wall),
      };
    }
  }
  throw new Error('the pages process ended without its figures');
}

print({ loadAverage: loadavg(), cpus: cpus().length });
await buildWebClient();
bundleSizes();

const admin = openPool(
  process.env.BENCH_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres',
  2,
);
const databaseUrl = await recreateDatabase(admin, DATABASE);
const pageUsers = Array.from({ length: PAGES }, (_, i) => FIRST_PAGE_USER + i);
try {
  for (const [phase, cacheMs] of [
    ['polling', '0'],
    ['cached', undefined],
  ] as const) {
    const server = await startOverture({
      label: `web-${phase}`,
      databaseUrl,
      fromSource: true,
      env: {
        SEED_DEMO_DATA: 'true',
        ALLOW_CLIENT_ID_AUTH: 'true',
        MAX_ACTIVE: String(PAGES),
        RATE_LIMIT_ENABLED: 'false',
        ...(cacheMs === undefined ? {} : { SEAT_MAP_CACHE_MS: cacheMs }),
      },
    });
    const api = new Api(server.url, 64);
    try {
      const pages = await admit(api, pageUsers);
      const paths = await seatMapPaths(api, pages[0]?.token ?? '');
      // The line is full now: the browser's buyer waits, as the first render should show.
      if (phase === 'polling') await waitingRoomRender(`${server.url}/`, Number(values.loads));
      const plan: Plan = {
        url: server.url,
        pages,
        paths,
        intervalMs: SEAT_REFRESH_MS,
        seconds: Number(values.seconds),
        conditional: phase === 'cached',
      };
      print({
        what: 'seat map updates',
        phase,
        pages: PAGES,
        paths,
        ...(await seatMapLoad(server, plan, admin)),
        loadAverage: loadavg(),
      });
    } finally {
      await api.close();
      await server.stop();
    }
  }
} finally {
  killAllChildren();
  await dropDatabase(admin, DATABASE);
  await admin.end();
}
print({ loadAverage: loadavg() });
