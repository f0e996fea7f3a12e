/**
 * Closed-loop load generator (child process): autocannon keeps `connections` requests in flight,
 * each connection sending its next request when the previous answer arrives. It measures how
 * much the server can do; latency here is connections ÷ throughput, not a user's wait.
 */
import autocannon from 'autocannon';
import { formatCount, formatMs } from '../lib/progress.js';
import { SampleBuffer, summarize } from '../lib/stats.js';
import { serveJob } from './channel.js';

export type ClosedLoopRequests =
  { kind: 'join'; userCount: number } | { kind: 'poll'; tokens: string[] };

export interface ClosedLoopJob {
  /** One or several base URLs; connections are spread over them. */
  targets: string[];
  connections: number;
  durationSeconds: number;
  /** An unmeasured run first, so connections exist and the server's JIT is warm. */
  warmupSeconds: number;
  requests: ClosedLoopRequests;
}

export interface ClosedLoopResult {
  requests: number;
  durationSeconds: number;
  requestsPerSecond: number;
  non2xx: number;
  errors: number;
  timeouts: number;
  statuses: Record<string, number>;
  latencies: Float64Array;
  cpuSeconds: number;
}

const pick = <T>(items: readonly T[]): T => items[Math.floor(Math.random() * items.length)]!;

function requestsFor(requests: ClosedLoopRequests) {
  if (requests.kind === 'join') {
    return {
      method: 'POST',
      path: '/api/v1/queue/token',
      setupRequest: (request: { headers?: Record<string, string> }) => ({
        ...request,
        headers: { 'client-id': String(1 + Math.floor(Math.random() * requests.userCount)) },
      }),
    };
  }
  return {
    method: 'GET',
    path: '/api/v1/queue/token',
    setupRequest: (request: { headers?: Record<string, string> }) => ({
      ...request,
      headers: { 'queue-token': pick(requests.tokens) },
    }),
  };
}

async function run(job: ClosedLoopJob, report: (text: string) => void): Promise<ClosedLoopResult> {
  const url = job.targets.length === 1 ? job.targets[0]! : job.targets;
  const common = {
    url,
    connections: job.connections,
    timeout: 30,
    requests: [requestsFor(job.requests)],
  };
  if (job.warmupSeconds > 0) {
    const warmup = autocannon({ ...common, duration: job.warmupSeconds });
    await warmup;
  }
  const latencies = new SampleBuffer(1 << 16);
  const cpuStart = process.cpuUsage();
  const instance = autocannon({ ...common, duration: job.durationSeconds });
  let windowStart = 0;
  let seconds = 0;
  instance.on(
    'response',
    (_client: unknown, _status: number, _bytes: number, responseTime: number) =>
      latencies.push(responseTime),
  );
  instance.on('tick', () => {
    seconds++;
    const window = summarize(latencies.since(windowStart));
    windowStart = latencies.length;
    report(
      `t=${seconds}s ${formatCount(window.count)} req/s, p50 ${formatMs(window.p50)} p99 ${formatMs(window.p99)}`,
    );
  });
  const result = await instance;
  const cpu = process.cpuUsage(cpuStart);
  const statuses = Object.fromEntries(
    Object.entries(result.statusCodeStats).map(([status, stat]) => [status, stat.count]),
  );
  return {
    requests: result.requests.total,
    durationSeconds: result.duration,
    requestsPerSecond: result.duration > 0 ? result.requests.total / result.duration : 0,
    non2xx: result.non2xx,
    errors: result.errors,
    timeouts: result.timeouts,
    statuses,
    latencies: latencies.values(),
    cpuSeconds: (cpu.user + cpu.system) / 1e6,
  };
}

serveJob(run);
