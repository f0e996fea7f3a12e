import { ApiError } from './http.js';

/** Solves a room's challenge in a Web Worker (pow.worker.ts): the page stays responsive. */
export function solveInWorker(challenge: string, difficulty: number): Promise<string> {
  const worker = new Worker(new URL('./pow.worker.ts', import.meta.url), { type: 'module' });
  return new Promise<string>((resolve, reject) => {
    worker.onmessage = (event: MessageEvent<{ solution?: string; error?: string }>) => {
      worker.terminate();
      if (event.data.solution !== undefined) resolve(event.data.solution);
      else reject(new ApiError('POW_UNAVAILABLE', event.data.error ?? '', 0));
    };
    worker.onerror = (event) => {
      worker.terminate();
      reject(new ApiError('POW_UNAVAILABLE', event.message, 0));
    };
    worker.postMessage({ challenge, difficulty });
  });
}
