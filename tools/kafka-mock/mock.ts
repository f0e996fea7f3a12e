import { spawn, spawnSync, type ChildProcessByStdio } from 'node:child_process';
import { existsSync } from 'node:fs';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import type { Readable, Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';

/** tools/kafka-mock: librdkafka's mock cluster behind a tiny command line (build.sh builds it). */
const mockDir = fileURLToPath(new URL('.', import.meta.url));
const mockBinary = `${mockDir}kafka-mock`;

/**
 * Builds the mock when it is missing or older than its source (build.sh, from Debian's
 * librdkafka-dev); returns why it cannot run, or '' when it can.
 */
export function buildKafkaMock(): string {
  const build = spawnSync('bash', [`${mockDir}build.sh`], { encoding: 'utf8' });
  if (build.status === 0 && existsSync(mockBinary)) return '';
  return `tools/kafka-mock/kafka-mock could not be built (${build.stderr.trim() || `exit ${String(build.status)}`})`;
}

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
