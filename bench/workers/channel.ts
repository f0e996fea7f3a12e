/** The child side of bench/lib/workers.ts: receive one job, report progress, send one result. */
import type { WorkerMessage } from '../lib/workers.js';

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
