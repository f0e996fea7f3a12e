/** One block of an event stream: an event (id, data) or a comment line (`: ping`). */
export interface StreamBlock {
  id?: string;
  data?: string;
  comment?: string;
  /** ms since the stream was opened. */
  at: number;
}

export interface LiveState {
  status: 'PRE_QUEUE' | 'WAITING' | 'ACTIVE' | 'EXPIRED' | 'SOLD_OUT';
  position: number;
  expiresAt: string | null;
  estimatedWaitSeconds: number | null;
  concertId?: number | null;
  ahead?: number;
  seatsLeft?: number | null;
  /** A pre-queue token's receipt and its room's opening (PRE_QUEUE). */
  receiptId?: string | null;
  opensAt?: string | null;
}

/**
 * A Server-Sent Events client over fetch, reading blocks as they arrive (what a browser's
 * EventSource does, minus reconnecting: tests reconnect on purpose). It never polls anything.
 */
export async function openStream(
  url: string,
  headers: Record<string, string>,
): Promise<{
  status: number;
  headers: Headers;
  /** Blocks received so far, in order. */
  blocks: StreamBlock[];
  /** Events (blocks with data), parsed. */
  states: () => (LiveState & { id: string | undefined })[];
  /** Resolves with the next block whose index is >= `from` matching `match`, or rejects after `timeoutMs`. */
  waitFor: (
    match: (block: StreamBlock) => boolean,
    timeoutMs?: number,
    from?: number,
  ) => Promise<StreamBlock>;
  /** Resolves when the server ends the stream. */
  ended: Promise<void>;
  /** The body as received so far (a refused open's JSON error, once `ended`). */
  text: () => string;
  close: () => void;
}> {
  const controller = new AbortController();
  const response = await fetch(url, {
    headers: { accept: 'text/event-stream', ...headers },
    signal: controller.signal,
  });
  const started = performance.now();
  const blocks: StreamBlock[] = [];
  const waiters = new Set<() => void>();
  const notify = () => {
    for (const waiter of [...waiters]) waiter();
  };
  let finished = false;
  let raw = '';
  const ended = (async () => {
    if (!response.body) return;
    const decoder = new TextDecoder();
    let buffer = '';
    try {
      for await (const chunk of response.body) {
        const decoded = decoder.decode(chunk as Uint8Array, { stream: true });
        raw += decoded;
        buffer += decoded;
        let end: number;
        while ((end = buffer.indexOf('\n\n')) >= 0) {
          const raw = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const block: StreamBlock = { at: performance.now() - started };
          for (const line of raw.split('\n')) {
            if (line.startsWith(':')) block.comment = line.slice(1).trim();
            else if (line.startsWith('id:')) block.id = line.slice(3).trim();
            else if (line.startsWith('data:'))
              block.data =
                (block.data === undefined ? '' : `${block.data}\n`) + line.slice(5).trim();
          }
          blocks.push(block);
          notify();
        }
      }
    } catch {
      // Aborted by close().
    } finally {
      finished = true;
      notify();
    }
  })();

  return {
    status: response.status,
    headers: response.headers,
    blocks,
    states: () =>
      blocks
        .filter((block) => block.data !== undefined)
        .map((block) => ({ ...(JSON.parse(block.data!) as LiveState), id: block.id })),
    waitFor(match, timeoutMs = 5_000, from = 0) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const found = blocks.slice(from).find(match);
          if (found) {
            done();
            resolve(found);
          } else if (finished) {
            done();
            reject(new Error(`stream ended without it: ${JSON.stringify(blocks)}`));
          }
        };
        const timer = setTimeout(() => {
          done();
          reject(new Error(`not within ${timeoutMs} ms: ${JSON.stringify(blocks)}`));
        }, timeoutMs);
        const done = () => {
          clearTimeout(timer);
          waiters.delete(check);
        };
        waiters.add(check);
        check();
      });
    },
    ended,
    text: () => raw,
    close: () => controller.abort(),
  };
}
