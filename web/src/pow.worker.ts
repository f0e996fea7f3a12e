import { solveChallenge } from '../../src/modules/queue/queue.pow.solve.js';

/**
 * The room's proof of work, solved off the page's thread: the server's own solver file
 * (queue.pow.solve.ts, WebCrypto SHA-256 only), so page and server hash exactly the same text.
 */
self.onmessage = async (event: MessageEvent<{ challenge: string; difficulty: number }>) => {
  try {
    const { solution } = await solveChallenge(event.data.challenge, event.data.difficulty);
    self.postMessage({ solution });
  } catch (error) {
    // WebCrypto exists only in a secure context (HTTPS or loopback): decision 0051.
    self.postMessage({ error: error instanceof Error ? error.message : String(error) });
  }
};
