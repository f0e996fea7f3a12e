import type pg from 'pg';
import { buildKafkaMock, startKafkaMock } from '../../tools/kafka-mock/mock.js';
import type { Options } from './options.js';
import { withRedis } from './machine.js';
import { dropDatabase, recreateDatabase } from './postgres.js';
import { progress } from './progress.js';
import type { ModeStatus } from './results.js';
import { ServerStartError, startOverture } from './server.js';

/**
 * Redis for the bench: its own logical database, emptied before each server start, so runs never
 * see each other's keys nor touch the keys of tests running on the same machine (they use db 0).
 */
export const redisUrl = process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379/11';

/** The Kafka-protocol server of the stream mode ('' while there is none). */
let kafkaBrokers = process.env.BENCH_KAFKA_BROKERS ?? process.env.KAFKA_BROKERS ?? '';
/** Whether `kafkaBrokers` is the mock cluster this run started. */
let mockStarted = false;
/** Why no mock cluster could be started ('' when none was tried or it started). */
let mockMissing = '';

/**
 * Without BENCH_KAFKA_BROKERS, the stream mode runs against a fresh mock cluster of this run
 * (tools/kafka-mock: librdkafka's mock, 3 brokers, in memory), built here when Debian's
 * librdkafka-dev is installed. It lives until the bench exits (its stdin is our pipe). Fresh per
 * run: a long-lived mock holds every entry of earlier runs, and a stream run against one that had
 * served a full run answered new users with p99 1,022 ms against 63 ms on a fresh one.
 */
export async function provideKafka(): Promise<void> {
  if (kafkaBrokers !== '') return;
  mockMissing = buildKafkaMock();
  if (mockMissing !== '') return;
  kafkaBrokers = (await startKafkaMock(['queue.entries:6', 'reservation.confirmed:6'])).brokers;
  mockStarted = true;
}

function kafkaDescription(): string {
  if (mockStarted)
    return '; Kafka: a mock cluster started for this run, librdkafka, 3 brokers, in memory, fetch wait 2 ms';
  return kafkaBrokers === '' ? '' : `; Kafka at ${kafkaBrokers}`;
}

export interface QueueMode {
  name: string;
  description: string;
  /** The baseline: a run where it cannot start is a broken run, not a missing feature. */
  required: boolean;
  /** Why the mode cannot run on this machine, checked before starting it. */
  unavailableBecause(): string | undefined;
  env(): Record<string, string>;
}

/**
 * Every server's settings besides its mode's. The bench speaks the seed's contract: the user is
 * named by the Client-Id header, which production refuses unless told to allow it. Rate limits
 * and the cap on live streams per address stay on (their cost is part of every request) but are
 * raised out of reach: all the bench's simulated users share one loopback address (the polling
 * scenario holds 1,000 streams from it, docs/decisions/0019 caps an address at 100), and a closed
 * loop re-polls faster than a person would. A 429 still counts as a failure in every scenario.
 */
export const benchServerEnv: Record<string, string> = {
  // The pool a production instance would run with (the default), stated so the report shows it.
  DB_POOL_SIZE: '10',
  // The scenarios shop the demo concerts, which NODE_ENV=production loads only when asked.
  SEED_DEMO_DATA: 'true',
  // The five simple concerts only, as the earlier reports were measured on.
  SEED_DEMO_CATALOGUE: 'false',
  AUTH_MODE: 'client-id',
  ALLOW_CLIENT_ID_AUTH: 'true',
  ...Object.fromEntries(
    ['IP', 'QUEUE', 'BOOKING', 'ACCOUNT'].map((group) => [`RATE_LIMIT_${group}_MAX`, '1000000']),
  ),
  SSE_MAX_STREAMS_PER_ADDRESS: '1000000',
  // Redis is there in production for the ranking and locks whatever the queue; give it to every mode.
  REDIS_URL: redisUrl,
};

/** The queue modes, measured side by side. Add a mode here and every scenario runs it. */
export const queueModes: QueueMode[] = [
  {
    name: 'postgres',
    description: 'waiting room in PostgreSQL (QUEUE_BACKEND=postgres)',
    required: true,
    unavailableBecause: () => undefined,
    env: () => ({ QUEUE_BACKEND: 'postgres' }),
  },
  {
    name: 'redis',
    description: 'waiting room in Redis sorted sets (QUEUE_BACKEND=redis)',
    required: false,
    unavailableBecause: () => undefined,
    env: () => ({ QUEUE_BACKEND: 'redis' }),
  },
  {
    name: 'stream',
    get description() {
      return `queue entries through an ordered Kafka-protocol consumer (QUEUE_BACKEND=stream${kafkaDescription()})`;
    },
    required: false,
    unavailableBecause: () =>
      kafkaBrokers === ''
        ? `no Kafka-protocol server${mockMissing === '' ? '' : ` and no mock cluster (${mockMissing})`}; set BENCH_KAFKA_BROKERS=host:port to include it`
        : undefined,
    env: () => ({
      QUEUE_BACKEND: 'stream',
      KAFKA_BROKERS: kafkaBrokers,
      // librdkafka's mock holds a group whose last member left (a restarted server) for the
      // session timeout minus 1 s before it takes a new member (docs/decisions/0011): keep the
      // bench's many restarts short. Real brokers take the new member at once.
      KAFKA_SESSION_TIMEOUT_MS: '6000',
      // The mock answers a fetch only when its wait is over, where a broker answers when an entry
      // arrives, so every join waited up to the 10 ms default for its placement: seed test, random
      // users, p99 11.4 ms at 10 ms and 7.3 ms at 2 ms, server CPU 27% and 29% (0012, finding 12).
      ...(mockStarted ? { QUEUE_STREAM_FETCH_WAIT_MS: '2' } : {}),
    }),
  },
];

/** A server's settings: the bench's, the mode's, the command line's, then the scenario's. */
export function serverEnv(
  options: Pick<Options, 'serverEnv'>,
  mode: QueueMode,
  scenario: Record<string, string> = {},
): Record<string, string> {
  return { ...benchServerEnv, ...mode.env(), ...options.serverEnv, ...scenario };
}

/** Empties the bench's Redis database before a server starts on it. */
export async function resetBenchRedis(): Promise<void> {
  // No Redis: a mode that needs it will say so when its server refuses to start.
  await withRedis(redisUrl, (client) => client.flushdb(), undefined);
}

/** Starts each requested mode once; a mode whose server refuses to start is "not available". */
export async function probeModes(
  options: Options,
  admin: pg.Pool,
): Promise<{ statuses: ModeStatus[]; available: QueueMode[]; failures: string[] }> {
  const statuses: ModeStatus[] = [];
  const available: QueueMode[] = [];
  const failures: string[] = [];
  for (const name of options.modes) {
    const mode = queueModes.find((item) => item.name === name);
    if (!mode)
      throw new Error(
        `Unknown mode "${name}" (known: ${queueModes.map((item) => item.name).join(', ')})`,
      );
    const status: ModeStatus = { name, description: mode.description, available: false };
    statuses.push(status);
    const precondition = mode.unavailableBecause();
    if (precondition !== undefined) {
      status.reason = precondition;
      progress.line(`mode ${name}`, `not available: ${precondition}`);
      continue;
    }
    const database = `overture_bench_${name}_probe`;
    const url = await recreateDatabase(admin, database);
    await resetBenchRedis();
    try {
      const server = await startOverture({
        label: `${name}-probe`,
        databaseUrl: url,
        env: serverEnv(options, mode),
      });
      await server.stop();
      status.available = true;
      available.push(mode);
      progress.line(`mode ${name}`, 'available');
    } catch (error) {
      if (!(error instanceof ServerStartError)) throw error;
      status.reason = `server refused to start: ${error.reason.split('\n').slice(-3).join(' ').slice(0, 400)}`;
      progress.line(`mode ${name}`, `not available: ${status.reason}`);
      if (mode.required) failures.push(`${name} mode (required) did not start: ${error.reason}`);
    } finally {
      await dropDatabase(admin, database);
    }
  }
  return { statuses, available, failures };
}
