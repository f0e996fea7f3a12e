import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export type ReceiverMode = 'accept' | 'fail' | 'throttle' | 'hang' | 'refuse';

export interface Received {
  at: number;
  idempotencyKey: string | undefined;
  /** The W3C trace context the request carried (when the sender traces). */
  traceparent: string | undefined;
  body: { eventId: string; type: string; reservation: Record<string, unknown> };
  answeredWith: number | 'hung';
}

/**
 * A real local HTTP server standing in for the external data platform. Its answer is scripted:
 * accept (200), fail (500), throttle (429 with Retry-After), hang (never answers), refuse (400).
 * `script` gives the answers of the next requests in order; after it runs out, `mode` answers;
 * `setDelay` makes every answer late.
 */
export async function startReceiver(initial: ReceiverMode = 'accept') {
  const received: Received[] = [];
  const hung: ServerResponse[] = [];
  let mode: ReceiverMode = initial;
  const script: ReceiverMode[] = [];
  let retryAfterSeconds = 1;
  let delayMs = 0;
  const delayed = new Set<NodeJS.Timeout>();

  const server = createServer((request: IncomingMessage, response: ServerResponse) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const answer = script.shift() ?? mode;
      const entry: Received = {
        at: Date.now(),
        idempotencyKey: request.headers['idempotency-key'] as string | undefined,
        traceparent: request.headers.traceparent as string | undefined,
        body: JSON.parse(Buffer.concat(chunks).toString('utf8')) as Received['body'],
        answeredWith: 'hung',
      };
      received.push(entry);
      const status = { accept: 200, fail: 500, throttle: 429, refuse: 400, hang: 0 }[answer];
      if (answer === 'hang') {
        hung.push(response);
        return;
      }
      const reply = () => {
        entry.answeredWith = status;
        if (answer === 'throttle') response.setHeader('retry-after', String(retryAfterSeconds));
        response.writeHead(status, { 'content-type': 'application/json' }).end('{}');
      };
      if (delayMs === 0) return reply();
      const timer = setTimeout(() => {
        delayed.delete(timer);
        reply();
      }, delayMs);
      delayed.add(timer);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}/reservations`,
    received,
    /** Requests that were answered 2xx, i.e. what the platform actually holds (deduplicated by key). */
    accepted: () =>
      new Set(
        received.filter((entry) => entry.answeredWith === 200).map((entry) => entry.idempotencyKey),
      ),
    setMode(next: ReceiverMode) {
      mode = next;
    },
    script(...answers: ReceiverMode[]) {
      script.push(...answers);
    },
    setRetryAfter(seconds: number) {
      retryAfterSeconds = seconds;
    },
    /** A slow platform: every later answer comes this long after the request (0: at once). */
    setDelay(ms: number) {
      delayMs = ms;
    },
    async close() {
      for (const timer of delayed) clearTimeout(timer);
      for (const response of hung) response.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

export type Receiver = Awaited<ReturnType<typeof startReceiver>>;
