/**
 * Load generators and the other measuring children (bench/workers/): the harness side runs one
 * with a job and waits for its result; the child side (`serveJob`) does the job.
 */
import { fork } from 'node:child_process';
import path from 'node:path';
import { loadKafka, type KafkaModule } from '../../src/kafka/package.js';
import { buildKafkaMock, startKafkaMock } from '../../tools/kafka-mock/mock.js';
import { progress } from './progress.js';
import { projectRoot, trackChild } from './server.js';

/** Messages a child sends to the harness. */
export type WorkerMessage<R> =
  | { type: 'progress'; text: string }
  | { type: 'result'; result: R }
  | { type: 'error'; message: string };

/**
 * Runs a load generator in a child process of its own (never in the server's process), hands it
 * the job, prints its per-second progress, and resolves with its result. A worker that outlives
 * `timeoutMs` is killed and the promise rejects, so every run stays bounded.
 */
export function runWorker<R>(
  script: string,
  job: unknown,
  options: { label: string; timeoutMs: number },
): Promise<R> {
  const child = fork(path.join(projectRoot, 'bench/workers', script), [], {
    cwd: projectRoot,
    execArgv: ['--import', 'tsx', '--max-old-space-size=4096'],
    serialization: 'advanced',
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  trackChild(child);
  return new Promise<R>((resolve, reject) => {
    let settled = false;
    const finish = (error: Error | undefined, result?: R) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (child.exitCode === null) child.kill('SIGKILL');
      if (error) reject(error);
      else resolve(result as R);
    };
    const timer = setTimeout(
      () =>
        finish(
          new Error(`${options.label}: load generator still running after ${options.timeoutMs} ms`),
        ),
      options.timeoutMs,
    );
    child.on('message', (message: WorkerMessage<R>) => {
      if (message.type === 'progress') progress.line(options.label, message.text);
      else if (message.type === 'result') finish(undefined, message.result);
      else finish(new Error(`${options.label}: ${message.message}`));
    });
    child.once('exit', (code) =>
      finish(
        new Error(`${options.label}: load generator exited with code ${code} before its result`),
      ),
    );
    child.once('error', (error) => finish(error));
    child.send({ type: 'job', job });
  });
}

/** The child side: receive one job, report progress, send one result, exit. */
export function serveJob<R>(
  work: (job: never, report: (text: string) => void) => Promise<R>,
): void {
  const send = (message: WorkerMessage<R>) => process.send?.(message);
  process.once('message', (message: { type: 'job'; job: unknown }) => {
    work(message.job as never, (text) => send({ type: 'progress', text }))
      .then((result) => {
        send({ type: 'result', result });
        // Let the result flush before the parent kills this process.
        setTimeout(() => process.exit(0), 1000).unref();
      })
      .catch((error: unknown) => {
        send({
          type: 'error',
          message: error instanceof Error ? (error.stack ?? error.message) : String(error),
        });
        setTimeout(() => process.exit(1), 1000).unref();
      });
  });
}

/**
 * For the children that drive the Kafka adapters: runs `work` with the client and a private mock
 * cluster of `topics` (tools/kafka-mock); resolves with why not ('' when it ran).
 */
export async function withKafkaMock(
  topics: string[],
  work: (kafka: KafkaModule, brokers: string[]) => Promise<void>,
): Promise<string> {
  const kafka = await loadKafka();
  const missing = kafka ? buildKafkaMock() : '@confluentinc/kafka-javascript is not installed';
  if (!kafka || missing !== '') return missing;
  const mock = await startKafkaMock(topics);
  try {
    await work(kafka, mock.brokers.split(','));
  } finally {
    await mock.stop();
  }
  return '';
}
