import type { Command } from 'ioredis';
import type { PoolReadings } from '../db/client.js';
import type { RedisClient } from '../redis/client.js';
import type { Logger } from 'pino';
import {
  Counter,
  Gauge,
  Histogram,
  Registry,
  collectDefaultMetrics,
  type MetricObjectWithValues,
  type MetricValue,
} from 'prom-client';
import { HOUSE_ROOM, type SaleMetrics } from '../shared/metrics.js';

/**
 * Readings of the shared stores (the database, the waiting room): the same numbers on every
 * instance, so one instance reports them — otherwise a sum over instances would count the line
 * once per instance.
 */
export interface StoreReadings {
  /** The house line as the last admission run of this instance saw it; absent before one ran. */
  queue: { waiting: number; active: number; limit: number; admissionRate: number } | undefined;
  outbox: { unsent: number; oldestUnsentSeconds: number };
  deliveries: { pending: number; dead: number };
}

export interface MetricsSources {
  /** Reads the shared stores; bounded by `storeTimeoutMs` on each scrape. */
  readStores: () => Promise<StoreReadings>;
  /** Whether this instance is the one reporting the shared readings (one lock holder of all). */
  reportsStores: () => Promise<boolean>;
  /**
   * The node-postgres pools, read on scrape: the requests' (`main`) and the join batches'
   * (`batches`). Absent on the embedded database: one connection, no pool.
   */
  pools?: () => PoolReadings;
  redis?: RedisClient;
  storeTimeoutMs: number;
  logger: Logger;
}

export interface Metrics extends SaleMetrics {
  /** One finished HTTP request: its route template (never the raw URL), status and duration. */
  observeRequest(method: string, route: string, status: number, seconds: number): void;
  /** Times every command the client sends (pipelined ones too), by command name. */
  timeRedis(redis: RedisClient): void;
  /** The Prometheus text exposition of this instance (and of the stores, when it reports them). */
  render(): Promise<string>;
  /** The same as prom-client's JSON, for the cluster's primary to add up (src/cluster.ts). */
  snapshot(): Promise<MetricObjectWithValues<MetricValue<string>>[]>;
  readonly contentType: string;
}

const LATENCY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
const REDIS_BUCKETS = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.1, 0.5, 1];

/**
 * One registry per app instance (never prom-client's global one: tests build several apps in one
 * process). Counters live in this process and add up across instances; the pool, Redis and the
 * stores are read when Prometheus scrapes.
 */
export function createMetrics(sources: MetricsSources): Metrics {
  const registry = new Registry();
  const stores = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'overture_' });

  const requests = new Histogram({
    name: 'overture_http_request_duration_seconds',
    help: 'HTTP requests by method, route template and status, and their duration (its _count is the request count).',
    labelNames: ['method', 'route', 'status'] as const,
    buckets: LATENCY_BUCKETS,
    registers: [registry],
  });
  const holds = new Counter({
    name: 'overture_holds_total',
    help: 'Seat holds by outcome: ok, replayed, or the error code answered.',
    labelNames: ['outcome'] as const,
    registers: [registry],
  });
  const payments = new Counter({
    name: 'overture_payments_total',
    help: 'Payments by outcome: ok, replayed, or the error code answered.',
    labelNames: ['outcome'] as const,
    registers: [registry],
  });
  const cancellations = new Counter({
    name: 'overture_cancellations_total',
    help: 'Reservation cancellations by who asked (buyer, operator) and outcome: ok (refunded), replayed, or the error code answered.',
    labelNames: ['by', 'outcome'] as const,
    registers: [registry],
  });
  const admissions = new Counter({
    name: 'overture_queue_admissions_total',
    help: 'Tokens admitted from the line by the admission runs of this instance (the Redis join script also admits a join at once when a slot is free: those are in overture_queue_admission_rate only).',
    labelNames: ['room'] as const,
    registers: [registry],
  });
  const deliveries = new Counter({
    name: 'overture_event_deliveries_total',
    help: "Event consumers' attempts by consumer and outcome: delivered, retry (scheduled again) or dead (dead-lettered).",
    labelNames: ['consumer', 'outcome'] as const,
    registers: [registry],
  });
  const redisCommands = new Histogram({
    name: 'overture_redis_command_duration_seconds',
    help: 'Redis commands of the shared client, from write to reply, by command.',
    labelNames: ['command'] as const,
    buckets: REDIS_BUCKETS,
    registers: [registry],
  });
  const { pools, redis } = sources;
  if (pools) {
    // One series per pool: a sum over `pool` is the process's connections, and under WORKERS=N
    // the primary adds each pool's up over the processes (labels kept).
    new Gauge({
      name: 'overture_db_pool_connections_in_use',
      help: 'Connections of the pool checked out by a statement or a transaction, by pool: main (requests) or batches (the join batcher).',
      labelNames: ['pool'] as const,
      registers: [registry],
      collect() {
        for (const [pool, counts] of Object.entries(pools())) this.set({ pool }, counts.inUse);
      },
    });
    new Gauge({
      name: 'overture_db_pool_waiting_requests',
      help: 'Statements waiting for a free connection of the pool, by pool: main (requests) or batches (the join batcher).',
      labelNames: ['pool'] as const,
      registers: [registry],
      collect() {
        for (const [pool, counts] of Object.entries(pools())) this.set({ pool }, counts.waiting);
      },
    });
  }
  if (redis) {
    new Gauge({
      name: 'overture_redis_up',
      help: '1 when the shared Redis client is connected and ready, 0 otherwise.',
      registers: [registry],
      // Under WORKERS=N: 1 only when every process's client is ready.
      aggregator: 'min',
      collect() {
        this.set(redis.status === 'ready' ? 1 : 0);
      },
    });
  }

  const waiting = new Gauge({
    name: 'overture_queue_waiting',
    help: 'Tokens waiting in line (as of the last admission run), reported by one instance.',
    labelNames: ['room'] as const,
    registers: [stores],
  });
  const active = new Gauge({
    name: 'overture_queue_active',
    help: 'Active shoppers (as of the last admission run), reported by one instance.',
    labelNames: ['room'] as const,
    registers: [stores],
  });
  const activeLimit = new Gauge({
    name: 'overture_queue_active_limit',
    help: 'Active shoppers allowed at once (MAX_ACTIVE), reported by one instance.',
    labelNames: ['room'] as const,
    registers: [stores],
  });
  const admissionRate = new Gauge({
    name: 'overture_queue_admission_rate',
    help: "Admissions per second over ADMISSION_RATE_WINDOW_SECONDS, counted by the waiting room's store across instances (joins admitted at once included); the buyers' estimate uses a burst-proof form of it (decision 0058). Reported by one instance.",
    labelNames: ['room'] as const,
    registers: [stores],
  });
  const unsent = new Gauge({
    name: 'overture_outbox_unsent',
    help: 'Committed events the bus has not accepted yet, reported by one instance.',
    registers: [stores],
  });
  const oldestUnsent = new Gauge({
    name: 'overture_outbox_oldest_unsent_seconds',
    help: 'Age of the oldest event the bus has not accepted yet (0 when none), reported by one instance.',
    registers: [stores],
  });
  const pending = new Gauge({
    name: 'overture_event_deliveries_pending',
    help: 'Deliveries waiting for a retry, reported by one instance.',
    registers: [stores],
  });
  const dead = new Gauge({
    name: 'overture_dead_letters',
    help: 'Dead-lettered deliveries waiting for an operator, reported by one instance.',
    registers: [stores],
  });

  /** Sets the stores' gauges; false when not the reporter, or the stores too slow. */
  async function fillStores(): Promise<boolean> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        reject(new Error(`the stores took over ${sources.storeTimeoutMs} ms`));
      }, sources.storeTimeoutMs);
    });
    try {
      const readings = await Promise.race([
        sources.reportsStores().then((reports) => (reports ? sources.readStores() : undefined)),
        timeout,
      ]);
      if (!readings) return false;
      stores.resetMetrics();
      if (readings.queue) {
        waiting.set({ room: HOUSE_ROOM }, readings.queue.waiting);
        active.set({ room: HOUSE_ROOM }, readings.queue.active);
        activeLimit.set({ room: HOUSE_ROOM }, readings.queue.limit);
        admissionRate.set({ room: HOUSE_ROOM }, readings.queue.admissionRate);
      }
      unsent.set(readings.outbox.unsent);
      oldestUnsent.set(readings.outbox.oldestUnsentSeconds);
      pending.set(readings.deliveries.pending);
      dead.set(readings.deliveries.dead);
      return true;
    } catch (error) {
      // A slow or unreachable database must not hang the scrape: this instance's own numbers
      // still go out, and the alert on the stores' gauges sees them absent.
      sources.logger.warn({ err: error }, 'metrics: the shared stores were not read');
      return false;
    } finally {
      clearTimeout(timer);
    }
  }

  // Series that exist from the start, so a rate over the first increments is not lost.
  admissions.inc({ room: HOUSE_ROOM }, 0);
  holds.inc({ outcome: 'ok' }, 0);
  payments.inc({ outcome: 'ok' }, 0);

  return {
    contentType: registry.contentType,
    observeRequest(method, route, status, seconds) {
      requests.observe({ method, route, status }, seconds);
    },
    holdDecided: (outcome) => holds.inc({ outcome }),
    paymentDecided: (outcome) => payments.inc({ outcome }),
    cancelDecided: (by, outcome) => cancellations.inc({ by, outcome }),
    admitted: (room, count) => admissions.inc({ room }, count),
    deliveryDone: (consumer, outcome) => deliveries.inc({ consumer, outcome }),
    timeRedis(client) {
      // Redis and Cluster both send every command through sendCommand (Cluster with more arguments).
      const target = client as unknown as {
        sendCommand: (command: Command, ...rest: unknown[]) => unknown;
      };
      const send = target.sendCommand.bind(client);
      target.sendCommand = (command, ...rest) => {
        const started = performance.now();
        const done = () =>
          redisCommands.observe({ command: command.name }, (performance.now() - started) / 1000);
        command.promise.then(done, done);
        return send(command, ...rest);
      };
    },
    async render() {
      const [own, reported] = await Promise.all([registry.metrics(), fillStores()]);
      return reported ? own + (await stores.metrics()) : own;
    },
    async snapshot() {
      const [own, reported] = await Promise.all([registry.getMetricsAsJSON(), fillStores()]);
      return reported ? [...own, ...(await stores.getMetricsAsJSON())] : own;
    },
  };
}
