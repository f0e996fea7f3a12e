/**
 * Measures proof-of-work solving rates for decision 0051: the WebCrypto solver
 * (src/modules/queue/queue.pow.solve.ts) in Node and in headless Chromium, at a few batch sizes,
 * and node:crypto's synchronous SHA-256 on one core (what a bot's native loop does at least).
 *
 *   npx tsx scripts/measure-pow.ts [--seconds 5] [--chromium /usr/bin/chromium]
 *
 * Each WebCrypto figure solves fresh difficulty-16 challenges for the given time and divides the
 * hashes by the time (the solver's real overhead included); Node figures also per CPU second of
 * the process, which a loaded machine disturbs less. Prints one JSON line per figure, and the
 * load average before and after.
 */
import { createHash, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import ts from 'typescript';
import { solveChallenge } from '../src/modules/queue/queue.pow.solve.js';
import { chromiumPath, launchChromium } from '../test/support/chromium.js';

const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: '5' },
    chromium: { type: 'string', default: chromiumPath },
  },
});
const seconds = Number(values.seconds);
const BATCHES = [1, 64, 256, 1024];
const print = (figure: Record<string, unknown>) =>
  process.stdout.write(`${JSON.stringify(figure)}\n`);

/** Solves random difficulty-16 challenges for `ms`; returns hashes per second. */
async function solverRate(batch: number, ms: number): Promise<Rates> {
  let hashes = 0;
  const started = performance.now();
  const cpu = process.cpuUsage();
  while (performance.now() - started < ms) {
    const challenge = `pow1.1.16.1.${Math.random().toString(36).slice(2)}.x`;
    hashes += (await solveChallenge(challenge, 16, { batch })).hashes;
  }
  return rates(hashes, started, cpu);
}

/**
 * Per wall-clock second, and per CPU second of this process (all its threads): on a shared,
 * loaded machine the second is what one core would do undisturbed.
 */
interface Rates {
  hashesPerSecond: number;
  hashesPerCpuSecond: number;
}
function rates(hashes: number, started: number, cpu: NodeJS.CpuUsage): Rates {
  const used = process.cpuUsage(cpu);
  return {
    hashesPerSecond: Math.round(hashes / ((performance.now() - started) / 1000)),
    hashesPerCpuSecond: Math.round(hashes / ((used.user + used.system) / 1e6)),
  };
}

function nativeRate(ms: number): Rates {
  const prefix = `pow1.1.16.1.${randomBytes(16).toString('base64url')}.x:`;
  let hashes = 0;
  const started = performance.now();
  const cpu = process.cpuUsage();
  while (performance.now() - started < ms) {
    for (let i = 0; i < 1000; i++)
      createHash('sha256')
        .update(`${prefix}${hashes + i}`)
        .digest();
    hashes += 1000;
  }
  return rates(hashes, started, cpu);
}

print({ loadAverage: loadavg() });
print({
  where: 'node',
  what: 'node:crypto createHash, sync, 1 core',
  ...nativeRate(seconds * 1000),
});
for (const batch of BATCHES)
  print({
    where: 'node',
    what: `WebCrypto solver, batch ${batch}`,
    ...(await solverRate(batch, seconds * 1000)),
  });

// Chromium: the same solver source, transpiled, on a loopback page (a secure context, as HTTPS
// is: crypto.subtle exists only there).
const source = ts
  .transpileModule(
    readFileSync(new URL('../src/modules/queue/queue.pow.solve.ts', import.meta.url), 'utf8'),
    { compilerOptions: { target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.ESNext } },
  )
  .outputText.replace(/^export /gm, '');
const server = createServer((_, response) =>
  response.writeHead(200, { 'content-type': 'text/html' }).end('<!doctype html><title>pow</title>'),
);
await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
const browser = await launchChromium(values.chromium);
try {
  const page = await browser.newPage();
  await page.goto(`http://127.0.0.1:${(server.address() as AddressInfo).port}/`);
  print({ where: 'chromium', what: 'version', version: browser.version() });
  for (const batch of BATCHES) {
    const rate = await page.evaluate(
      async ({ code, batch, ms }) => {
        // eslint-disable-next-line @typescript-eslint/no-implied-eval
        const solve = new Function(`${code}\nreturn solveChallenge;`) as () => (
          challenge: string,
          difficulty: number,
          options: { batch: number },
        ) => Promise<{ hashes: number }>;
        const solver = solve();
        let hashes = 0;
        const started = performance.now();
        while (performance.now() - started < ms) {
          const challenge = `pow1.1.16.1.${Math.random().toString(36).slice(2)}.x`;
          hashes += (await solver(challenge, 16, { batch })).hashes;
        }
        return Math.round(hashes / ((performance.now() - started) / 1000));
      },
      { code: source, batch, ms: seconds * 1000 },
    );
    print({ where: 'chromium', what: `WebCrypto solver, batch ${batch}`, hashesPerSecond: rate });
  }
} finally {
  await browser.close();
  server.close();
}
print({ loadAverage: loadavg() });
