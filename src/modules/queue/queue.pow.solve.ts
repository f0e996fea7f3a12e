/**
 * Solves a proof-of-work challenge (format in queue.pow.ts): finds a solution s such that
 * SHA-256(challenge + ":" + s) starts with `difficulty` zero bits. No imports and only WebCrypto
 * (`crypto.subtle`) and TextEncoder, so the same file runs in Node 20+ (tests) and in the web
 * client. s is a decimal counter; hashes go to WebCrypto `batch` at a time (each digest is
 * asynchronous: a batch in flight keeps its workers busy instead of paying a round trip per hash).
 */
export interface PowSolution {
  solution: string;
  /** Hashes computed (≈ 2^difficulty on average; geometric, so the 95th percentile ≈ 3×). */
  hashes: number;
}

export async function solveChallenge(
  challenge: string,
  difficulty: number,
  options: { batch?: number; start?: number; signal?: AbortSignal } = {},
): Promise<PowSolution> {
  const { batch = 64, start = 0, signal } = options;
  const encoder = new TextEncoder();
  const fullBytes = Math.floor(difficulty / 8);
  const restMask = (0xff << (8 - (difficulty % 8))) & 0xff;
  const solved = (digest: ArrayBuffer): boolean => {
    const bytes = new Uint8Array(digest);
    for (let i = 0; i < fullBytes; i++) if (bytes[i] !== 0) return false;
    return restMask === 0 || ((bytes[fullBytes] ?? 0) & restMask) === 0;
  };
  for (let next = start; ; next += batch) {
    signal?.throwIfAborted();
    const candidates = Array.from({ length: batch }, (_, i) => String(next + i));
    const digests = await Promise.all(
      candidates.map((candidate) =>
        crypto.subtle.digest('SHA-256', encoder.encode(`${challenge}:${candidate}`)),
      ),
    );
    const found = digests.findIndex(solved);
    if (found !== -1)
      return { solution: candidates[found] ?? '', hashes: next - start + found + 1 };
  }
}
