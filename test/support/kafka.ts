import { spawn, spawnSync, type ChildProcessByStdio } from 'node:child_process';
import { existsSync } from 'node:fs';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import type { Readable, Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { describe } from 'vitest';
import { loadKafka, type KafkaModule } from '../../src/modules/events/bus.kafka.js';

const toolDir = fileURLToPath(new URL('../../tools/kafka-mock/', import.meta.url));
const mockBinary = `${toolDir}kafka-mock`;

const required = () => process.env.CI === 'true' || process.env.REQUIRE_SERVICES === '1';

/**
 * Why the Kafka tests cannot run here ('' when they can): the mock cluster (tools/kafka-mock,
 * built by its build.sh from Debian's librdkafka-dev) and the optional client package must both
 * be there.
 */
async function kafkaUnavailable(): Promise<{ reason: string; kafka?: KafkaModule }> {
  const build = spawnSync('bash', [`${toolDir}build.sh`], { encoding: 'utf8' });
  if (build.status !== 0 || !existsSync(mockBinary))
    return {
      reason: `tools/kafka-mock/kafka-mock could not be built (${build.stderr.trim() || `exit ${String(build.status)}`})`,
    };
  const kafka = await loadKafka();
  if (!kafka)
    return {
      reason:
        'the optional package @confluentinc/kafka-javascript is not installed (CKJS_LINKING=dynamic npm ci: docs/decisions/0008)',
    };
  return { reason: '', kafka };
}

const availability = await kafkaUnavailable();
if (availability.reason !== '') {
  const message = `Kafka tests cannot run: ${availability.reason}`;
  // Like PostgreSQL and Redis in global setup: loud on a laptop, fatal where services are required.
  if (required()) throw new Error(`${message}, and CI=true/REQUIRE_SERVICES=1 requires them.`);
  process.stderr.write(`\n!!! ${message}: every Kafka test in this file is SKIPPED.\n\n`);
}

/** The client module when the Kafka tests can run. */
export const kafkaModule = availability.kafka;

/** `describe` for suites that need the Kafka mock and client: skipped loudly without them. */
export const describeWithKafka = describe.skipIf(availability.reason !== '');

export interface KafkaMock {
  /** Bootstrap servers (127.0.0.1:port,…). */
  brokers: string;
  /** Sends a control line (`down -1`, `up -1`, `rtt -1 MS`, `topic NAME:N`); resolves with the reply. */
  command(line: string): Promise<string>;
  stop(): Promise<void>;
}

/**
 * Starts a private Kafka mock cluster on ephemeral 127.0.0.1 ports with `topics` (NAME:PARTITIONS)
 * created. Its stdin is our pipe: if this process dies, the mock exits by itself.
 */
export async function startKafkaMock(topics: string[], brokers = 3): Promise<KafkaMock> {
  const child: ChildProcessByStdio<Writable, Readable, null> = spawn(
    mockBinary,
    ['--brokers', String(brokers), ...topics.flatMap((topic) => ['--topic', topic])],
    { stdio: ['pipe', 'pipe', 'inherit'] },
  );
  const exited = once(child, 'exit');
  const lines = createInterface({ input: child.stdout });
  const waiting: ((line: string) => void)[] = [];
  let bootstrap: ((line: string) => void) | undefined;
  const first = new Promise<string>((resolve, reject) => {
    bootstrap = resolve;
    void exited.then(() => reject(new Error('kafka-mock exited before it was ready')));
    setTimeout(() => reject(new Error('kafka-mock did not start within 10 s')), 10_000).unref();
  });
  lines.on('line', (line) => {
    if (bootstrap) {
      bootstrap(line);
      bootstrap = undefined;
      return;
    }
    if (!line.startsWith('ok') && !line.startsWith('error')) return;
    waiting.shift()?.(line);
  });
  const brokerList = await first;
  return {
    brokers: brokerList,
    command(line) {
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`kafka-mock: no reply to ${line}`)), 5_000);
        waiting.push((reply) => {
          clearTimeout(timer);
          if (reply.startsWith('ok')) resolve(reply);
          else reject(new Error(`kafka-mock: ${line} → ${reply}`));
        });
        child.stdin.write(`${line}\n`);
      });
    },
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.stdin.end();
      const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
      await exited;
      clearTimeout(timer);
    },
  };
}
