/**
 * Closed-loop load generator (child process): autocannon keeps `connections` requests in flight,
 * each connection sending its next request when the previous answer arrives. It measures how
 * much the server can do; latency here is connections ÷ throughput, not a user's wait.
 */
import autocannon from 'autocannon';
import { count, ms } from '../lib/format.js';
import { summarize } from '../lib/stats.js';
import { serveJob } from '../lib/workers.js';

export type ClosedLoopRequests =
  | { kind: 'join'; userCount: number }
  /** Every request a user never seen: `firstUserId`, then the next id, and so on (a first join). */
  | { kind: 'new-user'; firstUserId: number }
  | { kind: 'poll'; tokens: string[] }
  /** GET of one of `paths`, picked at random, with an ACTIVE queue token (a seat map). */
  | { kind: 'get'; paths: string[]; token: string };

export interface ClosedLoopJob {
  /** One or several base URLs; connections are spread over them. */
  targets: string[];
  connections: number;
  durationSeconds: number;
  /**
   * Seconds of unmeasured load first, on the same connections: they are open and the server's
   * JIT is warm when measuring starts, so the window measures requests, not connection set-up.
   */
  warmupSeconds: number;
  requests: ClosedLoopRequests;
}

export interface ClosedLoopResult {
  /** Counts over the measured window (after the warm-up). */
  requests: number;
  durationSeconds: number;
  requestsPerSecond: number;
  non2xx: number;
  errors: number;
  timeouts: number;
  statuses: Record<string, number>;
  latencies: Float64Array;
  cpuSeconds: number;
  /**
   * Seconds from the start until every connection had its first answer (undefined: some never
   * did). A busy Node server accepts one connection per event-loop iteration (libuv ≥ 1.45), so
   * opening many connections at once against a saturated server leaves some waiting for seconds.
   */
  allConnectionsAnsweredSeconds: number | undefined;
}

/** How long measuring waits, after the warm-up, for every connection's first answer. */
const acceptWaitSeconds = 30;

const pick = <T>(items: readonly T[]): T => items[Math.floor(Math.random() * items.length)]!;

/** Each request's method, path and headers; the first also opens every connection's loop. */
function requestsFor(requests: ClosedLoopRequests) {
  let sent = 0;
  const next = (): { method: string; path: string; headers: Record<string, string> } => {
    if (requests.kind === 'join' || requests.kind === 'new-user') {
      const user = String(
        requests.kind === 'join'
          ? 1 + Math.floor(Math.random() * requests.userCount)
          : requests.firstUserId + sent++,
      );
      return { method: 'POST', path: '/api/v1/queue/token', headers: { 'client-id': user } };
    }
    if (requests.kind === 'get')
      return {
        method: 'GET',
        path: pick(requests.paths),
        headers: { 'queue-token': requests.token },
      };
    const token = pick(requests.tokens);
    return { method: 'GET', path: '/api/v1/queue/token', headers: { 'queue-token': token } };
  };
  return { ...next(), setupRequest: (request: object) => ({ ...request, ...next() }) };
}

async function run(job: ClosedLoopJob, report: (text: string) => void): Promise<ClosedLoopResult> {
  const url = job.targets.length === 1 ? job.targets[0]! : job.targets;
  // One autocannon run, warm-up included, so the measured window starts on open connections:
  // measuring begins once the warm-up is over and every connection has had an answer (or
  // `acceptWaitSeconds` later), and lasts `durationSeconds`.
  const instance = autocannon({
    url,
    connections: job.connections,
    timeout: 30,
    requests: [requestsFor(job.requests)],
    duration: job.warmupSeconds + acceptWaitSeconds + job.durationSeconds + 5,
  });
  const startedAt = performance.now();
  const warmupEndsAt = startedAt + job.warmupSeconds * 1000;
  const waitEndsAt = warmupEndsAt + acceptWaitSeconds * 1000;
  let measuring = false;
  let measureStart = 0;
  let measureEnd = 0;
  let cpuStart = process.cpuUsage();
  const latencies: number[] = [];
  const statuses: Record<string, number> = {};
  let non2xx = 0;
  let errors = 0;
  let timeouts = 0;
  const answered = new Set<unknown>();
  let allAnsweredAt: number | undefined;
  let cpu: NodeJS.CpuUsage | undefined;
  let stopTimer: NodeJS.Timeout | undefined;
  const stopMeasuring = () => {
    measureEnd = performance.now();
    cpu = process.cpuUsage(cpuStart);
    measuring = false;
  };
  const startMeasuring = (now: number) => {
    measuring = true;
    measureStart = now;
    cpuStart = process.cpuUsage();
    stopTimer = setTimeout(() => {
      stopMeasuring();
      instance.stop();
    }, job.durationSeconds * 1000);
  };
  instance.on(
    'response',
    (client: unknown, status: number, _bytes: number, responseTime: number) => {
      const now = performance.now();
      if (allAnsweredAt === undefined && !answered.has(client)) {
        answered.add(client);
        if (answered.size === job.connections) allAnsweredAt = now;
      }
      if (!measuring) {
        if (measureEnd > 0 || now < warmupEndsAt) return;
        if (allAnsweredAt === undefined && now < waitEndsAt) return;
        startMeasuring(now);
      }
      latencies.push(responseTime);
      statuses[status] = (statuses[status] ?? 0) + 1;
      if (status < 200 || status >= 300) non2xx++;
    },
  );
  instance.on('reqError', (error: Error) => {
    if (!measuring) return;
    errors++;
    if (error.message === 'request timed out') timeouts++;
  });
  let windowStart = 0;
  let seconds = 0;
  instance.on('tick', () => {
    seconds++;
    const window = summarize(latencies.slice(windowStart));
    windowStart = latencies.length;
    report(
      `t=${seconds}s${measuring ? '' : ' (warm-up)'} ${count(window.count)} req/s, p50 ${ms(window.p50)} p99 ${ms(window.p99)} ms`,
    );
  });
  await instance;
  clearTimeout(stopTimer);
  if (measuring) stopMeasuring();
  const durationSeconds = (measureEnd - measureStart) / 1000;
  return {
    requests: latencies.length,
    durationSeconds,
    requestsPerSecond: durationSeconds > 0 ? latencies.length / durationSeconds : 0,
    non2xx,
    errors,
    timeouts,
    statuses,
    latencies: Float64Array.from(latencies),
    cpuSeconds: cpu === undefined ? 0 : (cpu.user + cpu.system) / 1e6,
    allConnectionsAnsweredSeconds:
      allAnsweredAt === undefined ? undefined : (allAnsweredAt - startedAt) / 1000,
  };
}

serveJob(run);
