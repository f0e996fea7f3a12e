/**
 * The open seat maps of scripts/measure-web.ts, in a process of its own: each page reads its
 * concert's sections and its section's seats every `intervalMs` as web/src/main.ts does
 * (refreshSeats: both requests at once, Client-Id and Queue-Token headers, two keep-alive
 * connections per page as a browser opens them). With `conditional`, each page sends the ETag it
 * last got as If-None-Match, as the browser's HTTP cache does for a `no-cache` reply with an ETag.
 *
 * Input: one JSON argument (Plan). Output: JSON lines — `{"phase":"measuring"}` when the measured
 * window starts (after one warm-up round), then the window's figures.
 */
import http from 'node:http';

export interface Plan {
  url: string;
  pages: { userId: number; token: string }[];
  paths: string[];
  intervalMs: number;
  seconds: number;
  conditional: boolean;
}

const plan = JSON.parse(process.argv[2] ?? '{}') as Plan;
const { hostname, port } = new URL(plan.url);
const say = (line: Record<string, unknown>) => process.stdout.write(`${JSON.stringify(line)}\n`);

let measuring = false;
const figures = { requests: 0, notModified: 0, failed: 0, bytes: 0, latencyMs: [] as number[] };
/** Failed requests by status (0: no reply), to tell a refusal from an overload. */
const failures: Record<number, number> = {};
const fail = (status: number) => {
  figures.failed++;
  failures[status] = (failures[status] ?? 0) + 1;
};

/** One GET as the page sends it; resolves with the reply's ETag. */
function get(
  agent: http.Agent,
  path: string,
  headers: Record<string, string>,
): Promise<string | undefined> {
  const sentAt = performance.now();
  return new Promise((resolve) => {
    const request = http.get({ agent, hostname, port, path, headers }, (response) => {
      let bytes = response.rawHeaders.reduce((sum, part) => sum + part.length + 2, 17);
      response.on('data', (chunk: Buffer) => (bytes += chunk.length));
      response.on('end', () => {
        if (measuring) {
          figures.requests++;
          figures.bytes += bytes;
          figures.latencyMs.push(performance.now() - sentAt);
          if (response.statusCode === 304) figures.notModified++;
          else if (response.statusCode !== 200) fail(response.statusCode ?? 0);
        }
        const etag = response.headers.etag;
        resolve(response.statusCode === 200 ? etag : headers['if-none-match']);
      });
    });
    request.on('error', () => {
      if (measuring) fail(0);
      resolve(undefined);
    });
  });
}

function openPage(page: Plan['pages'][number]): () => void {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 2 });
  const etags = new Map<string, string>();
  const refresh = async () => {
    await Promise.all(
      plan.paths.map(async (path) => {
        const headers: Record<string, string> = {
          accept: '*/*',
          'client-id': String(page.userId),
          'queue-token': page.token,
        };
        const known = etags.get(path);
        if (plan.conditional && known !== undefined) headers['if-none-match'] = known;
        const etag = await get(agent, path, headers);
        if (etag !== undefined) etags.set(path, etag);
      }),
    );
  };
  let timer: NodeJS.Timeout | undefined;
  // Pages opened at random moments: their rounds spread over the interval.
  const start = setTimeout(() => {
    void refresh();
    timer = setInterval(() => void refresh(), plan.intervalMs);
  }, Math.random() * plan.intervalMs);
  return () => {
    clearTimeout(start);
    clearInterval(timer);
    agent.destroy();
  };
}

const closers = plan.pages.map(openPage);
await new Promise((resolve) => setTimeout(resolve, plan.intervalMs * 1.5));
measuring = true;
say({ phase: 'measuring' });
const started = performance.now();
await new Promise((resolve) => setTimeout(resolve, plan.seconds * 1000));
measuring = false;
const elapsed = (performance.now() - started) / 1000;
for (const close of closers) close();
const sorted = figures.latencyMs.sort((a, b) => a - b);
const at = (q: number) => Math.round((sorted[Math.floor(q * (sorted.length - 1))] ?? 0) * 10) / 10;
say({
  phase: 'done',
  seconds: Math.round(elapsed * 10) / 10,
  requests: figures.requests,
  requestsPerSecond: Math.round(figures.requests / elapsed),
  notModified: figures.notModified,
  failed: figures.failed,
  failures,
  bytesPerSecond: Math.round(figures.bytes / elapsed),
  latencyMs: { p50: at(0.5), p99: at(0.99) },
});
