import net from 'node:net';
import { availableParallelism } from 'node:os';
import { defineConfig, type TestProjectInlineConfiguration } from 'vitest/config';

/** Settings every project shares (projects do not inherit the root's test options). */
const shared = {
  pool: 'forks',
  testTimeout: 60_000,
  hookTimeout: 60_000,
} as const;

/** Suites whose servers run a waiting room: they run on both queue backends (issue 4). */
const queueBackendSuites = [
  'test/api/**/*.test.ts',
  'test/concurrency/**/*.test.ts',
  'test/fuzz/**/*.test.ts',
];

/**
 * Fuzz runs per operation on the Redis project (FUZZ_RUNS when set): the fuzzer mostly exercises
 * the HTTP layer, which the default project already fuzzes with 1,500 runs per operation.
 */
const REDIS_FUZZ_RUNS = '300';

const servicesRequired = () => process.env.CI === 'true' || process.env.REQUIRE_SERVICES === '1';

/** Whether something listens at the test Redis's address (global setup then checks it for real). */
function redisListening(url: string): Promise<boolean> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve) => {
    const socket = net.connect({
      host: hostname.replace(/^\[|\]$/g, ''),
      port: Number(port || 6379),
    });
    const done = (listening: boolean) => {
      socket.destroy();
      resolve(listening);
    };
    socket.setTimeout(2_000, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

export default defineConfig(async () => {
  const redisUrl = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
  // Like the service tests in global setup: without Redis the Redis run is skipped loudly, unless
  // CI=true or REQUIRE_SERVICES=1 require it (then it runs and fails).
  const withRedis = servicesRequired() || (await redisListening(redisUrl));
  if (!withRedis)
    process.stderr.write(
      `\n!!! Redis is not reachable at ${redisUrl}: the redis-queue project (API, concurrency and ` +
        `fuzz suites on the Redis waiting room) is SKIPPED. Start it or set TEST_REDIS_URL.\n\n`,
    );
  const projects: TestProjectInlineConfiguration[] = [
    // Everything, on the queue backend TEST_QUEUE_BACKEND names (PostgreSQL by default).
    { test: { ...shared, name: 'default', include: ['test/**/*.test.ts'] } },
  ];
  if (withRedis)
    projects.push({
      test: {
        ...shared,
        name: 'redis-queue',
        include: queueBackendSuites,
        env: {
          TEST_QUEUE_BACKEND: 'redis',
          FUZZ_RUNS: process.env.FUZZ_RUNS ?? REDIS_FUZZ_RUNS,
        },
      },
    });
  return {
    test: {
      // Runs once per run (root project) for every project: one template database, one Redis check.
      globalSetup: ['test/support/global-setup.ts'],
      // Vitest's default is one file fewer than the cores: on CI's 2 cores, one file at a time,
      // the machine 48% busy (the files wait on servers, databases and timers more than they
      // compute). Two at once: the default project in 815 s instead of 1,279 s (decision 0067).
      maxWorkers: Math.max(2, availableParallelism() - 1),
      reporters: ['default'],
      projects,
    },
  };
});
