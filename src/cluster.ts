import cluster, { type Worker } from 'node:cluster';
import { availableParallelism } from 'node:os';
import type { Logger } from 'pino';
import { AggregatorRegistry, type MetricObjectWithValues, type MetricValue } from 'prom-client';
import type { Config } from './config.js';
import type { Metrics } from './metrics/metrics.js';

/**
 * WORKERS=N (docs/decisions/0047-workers.md): a primary process forks N server processes that
 * share the port through node:cluster, prints the banner once, starts another when one dies, and
 * stops them all on SIGTERM/SIGINT. GET /metrics, answered by whichever process the connection
 * reached, adds up every process's numbers with prom-client's AggregatorRegistry.
 */

type Snapshot = MetricObjectWithValues<MetricValue<string>>[];
type Message =
  /** worker → primary: listening; the first one's banner is printed. */
  | { type: 'overture:listening'; banner: string }
  /** worker → primary: a scrape arrived; answer with every process's metrics added up. */
  | { type: 'overture:metrics'; id: number }
  /** primary → worker: send your metrics. */
  | { type: 'overture:snapshot'; id: number }
  | { type: 'overture:snapshot-reply'; id: number; snapshot: Snapshot }
  | { type: 'overture:metrics-reply'; id: number; text: string };

const isMessage = (value: unknown): value is Message =>
  typeof value === 'object' &&
  value !== null &&
  String((value as { type?: unknown }).type).startsWith('overture:');

/** WORKERS as a process count: `auto` is one per core. */
export const workerCount = (config: Pick<Config, 'WORKERS'>): number =>
  config.WORKERS === 'auto' ? availableParallelism() : Number(config.WORKERS);

/** How long the primary waits for the processes' metrics before answering with those it has. */
const SNAPSHOT_TIMEOUT_MS = 2_000;
/** Waits before starting a replacement, doubling while replacements fail to start. */
const RESTART_DELAYS_MS = [100, 1_000, 2_000, 5_000, 10_000, 30_000];

/** The primary: forks `count` workers and keeps them running until a signal stops them. */
export function runPrimary(count: number, logger: Logger): void {
  let stopping = false;
  let failedRestarts = 0;
  let exitCode = 0;
  const listening = new Set<number>();
  let bannerShown = false;
  let nextScrape = 0;
  const scrapes = new Map<number, { snapshots: Snapshot[]; waiting: Set<number>; done(): void }>();

  const send = (worker: Worker, message: Message) => {
    if (worker.isConnected()) worker.send(message);
  };

  /** Asks every listening worker for its metrics and answers `requester` with their sum. */
  function scrape(requester: Worker, requestId: number) {
    const id = nextScrape++;
    const workers = Object.values(cluster.workers ?? {}).filter(
      (worker): worker is Worker => worker !== undefined && listening.has(worker.id),
    );
    const state = {
      snapshots: [] as Snapshot[],
      waiting: new Set(workers.map((worker) => worker.id)),
      done: () => {
        clearTimeout(timer);
        scrapes.delete(id);
        void AggregatorRegistry.aggregate(state.snapshots)
          .metrics()
          .then((text) => send(requester, { type: 'overture:metrics-reply', id: requestId, text }));
      },
    };
    const timer = setTimeout(state.done, SNAPSHOT_TIMEOUT_MS);
    scrapes.set(id, state);
    for (const worker of workers) send(worker, { type: 'overture:snapshot', id });
  }

  const fork = () => {
    const worker = cluster.fork();
    worker.on('message', (message: unknown) => {
      if (!isMessage(message)) return;
      switch (message.type) {
        case 'overture:listening':
          listening.add(worker.id);
          failedRestarts = 0;
          if (!bannerShown) process.stdout.write(message.banner);
          bannerShown = true;
          break;
        case 'overture:metrics':
          scrape(worker, message.id);
          break;
        case 'overture:snapshot-reply': {
          const state = scrapes.get(message.id);
          if (!state) break;
          state.snapshots.push(message.snapshot);
          state.waiting.delete(worker.id);
          if (state.waiting.size === 0) state.done();
          break;
        }
        default:
          break;
      }
    });
  };

  cluster.on('exit', (worker, code, signal) => {
    const started = listening.delete(worker.id);
    for (const state of scrapes.values()) {
      state.waiting.delete(worker.id);
      if (state.waiting.size === 0) state.done();
    }
    if (stopping) {
      // One still starting is simply stopped; one that served must have stopped cleanly.
      if (started && code !== 0) exitCode = 1;
      if (Object.keys(cluster.workers ?? {}).length === 0) process.exit(exitCode);
      return;
    }
    if (!bannerShown) {
      // The first start failed: the worker wrote why. The others would fail alike.
      exitCode = 1;
      stop('a server process failed to start');
      return;
    }
    if (!started) failedRestarts++;
    const wait = RESTART_DELAYS_MS[Math.min(failedRestarts, RESTART_DELAYS_MS.length - 1)] ?? 0;
    logger.error(
      { pid: worker.process.pid, code, signal, restartInMs: wait },
      'a server process died; starting another',
    );
    setTimeout(() => {
      if (!stopping) fork();
    }, wait);
  });

  const stop = (reason: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ reason }, 'stopping the server processes');
    for (const worker of Object.values(cluster.workers ?? {})) worker?.process.kill('SIGTERM');
    if (Object.keys(cluster.workers ?? {}).length === 0) process.exit(exitCode);
  };
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    process.on(signal, () => {
      if (!stopping) return stop(signal);
      // A second signal: stop waiting.
      for (const worker of Object.values(cluster.workers ?? {})) worker?.process.kill('SIGKILL');
      process.exit(1);
    });
  }
  for (let i = 0; i < count; i++) fork();
}

/**
 * A worker's side: tells the primary it listens (with the banner to print), answers the
 * primary's snapshot requests, and makes `metrics.render` the sum over every process.
 */
export function joinCluster(banner: string, metrics: Metrics | undefined): void {
  let nextRequest = 0;
  const waiting = new Map<number, (text: string) => void>();
  const own = metrics?.render.bind(metrics);
  process.on('message', (message: unknown) => {
    if (!isMessage(message)) return;
    if (message.type === 'overture:snapshot' && metrics) {
      void metrics
        .snapshot()
        .catch((): Snapshot => [])
        .then((snapshot) =>
          process.send?.({ type: 'overture:snapshot-reply', id: message.id, snapshot }),
        );
    } else if (message.type === 'overture:metrics-reply') {
      waiting.get(message.id)?.(message.text);
      waiting.delete(message.id);
    }
  });
  if (metrics && own) {
    metrics.render = () =>
      new Promise<string>((resolve) => {
        const id = nextRequest++;
        // The primary answers within SNAPSHOT_TIMEOUT_MS; if it cannot, this process's own.
        const timer = setTimeout(() => {
          waiting.delete(id);
          void own().then(resolve, () => resolve(''));
        }, SNAPSHOT_TIMEOUT_MS * 2);
        waiting.set(id, (text) => {
          clearTimeout(timer);
          resolve(text);
        });
        process.send?.({ type: 'overture:metrics', id } satisfies Message);
      });
  }
  // The primary decides when to stop (a terminal's Ctrl+C reaches every process of the group).
  process.on('SIGINT', () => undefined);
  process.send?.({ type: 'overture:listening', banner } satisfies Message);
}
